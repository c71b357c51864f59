/* fuzz-rules.c - libFuzzer harness for the rule-file parser (rules_parse in
 * lib/rules.c). A rule file that parses is also run: every rule is matched
 * against a sample of Kamerstuk text and every template expanded, so
 * templates and patterns from hostile files are exercised too. */
#include <stdint.h>
#include <string.h>

#include "rules.h"

static const char subject[] =
	"Kamerstuk 34 843, nr. 45 van 4 februari 2021 (Kamerstukken II 2020/21, "
	"22 112 nr. 2953), zie https://www.tweedekamer.nl/ en COM(2021) 726. "
	"Ik zal uw Kamer vóór de zomer informeren.";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs;
	struct buf out = BUF_INIT;
	char err[256];
	size_t i, j, off, start, end, len = sizeof(subject) - 1;
	int n;

	rules_init(&rs);
	if (rules_parse(&rs, "fuzz", (const char *)data, size, err, sizeof(err)) == 0) {
		for (i = 0; i < rs.n; i++) {
			off = 0;
			for (n = 0; n < 8 && rule_next(&rs, &rs.rule[i], subject,
			    len, &off, &start, &end) == 1; n++) {
				if (start > end || end > len)
					__builtin_trap();
				for (j = 0; j < rs.rule[i].nattr; j++)
					rule_expand(&rs, &rs.rule[i].attr[j], &out);
				buf_clear(&out);
			}
		}
	}
	buf_free(&out);
	rules_free(&rs);
	return 0;
}
