/* Unit tests for lib/rules.c: the rule-file format, templates, matching. */
#include "rules.h"
#include "kst.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

#define CHECK(cond) do { if (cond) printf("ok - %s\n", #cond); \
	else { printf("not ok - %s (line %d)\n", #cond, __LINE__); failed++; } } while (0)

static char err[512];

static int
parse(struct ruleset *rs, const char *text)
{
	err[0] = '\0';
	return rules_parse(rs, "t.rules", text, strlen(text), err, sizeof err);
}

/* Parses text into a fresh ruleset and returns the error message ("" if none). */
static const char *
parse_error(const char *text)
{
	struct ruleset rs;

	rules_init(&rs);
	parse(&rs, text);
	rules_free(&rs);
	return err;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* First match of rule `name` in s, then template `key` expanded. */
static const char *
expand(struct ruleset *rs, const char *name, const char *s, const char *key)
{
	static struct buf out;
	size_t off = 0, start, end, i;

	buf_clear(&out);
	for (i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rule[i];

		if (strcmp(r->name, name) != 0)
			continue;
		if (rule_next(rs, r, s, strlen(s), &off, &start, &end) != 1)
			return "(no match)";
		if (rule_expand(rs, rule_attr(r, key), &out) < 0)
			return "(rejected)";
		return buf_str(&out);
	}
	return "(no rule)";
}

static const char *good =
	"# a comment\n"
	"\n"
	"rule datum-den-haag dagtekening\n"
	"\tdatum  ${jaar}-${maand|month}-${dag|pad2}\n"
	"\tvalue  $dag $maand $jaar\n"
	"\tmatch  Den Haag, (?<dag>\\d{1,2}) (?<maand>\\p{L}+\\.?) (?<jaar>\\d{4})\n"
	"\n"
	"rule dossier dossier\n"
	"  # a comment inside a rule\n"
	"  value ${nr|nospace}\n"
	"  toev  ${t}\n"
	"  cost  $$5 and $1\n"
	"  match (?x) (?<nr>\\d{2}\\s\\d{3})   # extended mode: comments work\n"
	"  match      (?:-(?<t>\\d{2}))?\n"
	"rule naam ondertekenaar\n"
	"\tvalue ${n|oneline}\n"
	"\tmatch (?:namens\\s+|(?!\\A)\\G,\\s*)(?<n>[^,.]+)\n";

static void
test_parse_good(void)
{
	struct ruleset rs;

	rules_init(&rs);
	CHECK(parse(&rs, good) == 0);
	CHECK(err[0] == '\0');
	CHECK(rs.n == 3);
	CHECK(strcmp(rs.rule[0].name, "datum-den-haag") == 0);
	CHECK(strcmp(rs.rule[0].kind, "dagtekening") == 0);
	CHECK(rs.rule[0].line == 3);
	CHECK(rs.rule[1].line == 8);
	CHECK(rs.rule[0].nattr == 2);
	CHECK(rule_attr(&rs.rule[1], "toev") != NULL);
	CHECK(rule_attr(&rs.rule[1], "nope") == NULL);
	CHECK(strchr(rs.rule[1].pattern, '\n') != NULL);

	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 4 februari 2021", "datum"), "2021-02-04") == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 4 februari 2021", "value"), "4 februari 2021") == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 12 okt. 2021", "datum"), "2021-10-12") == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 1 MAART 2011", "datum"), "2011-03-01") == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 4 brumaire 2021", "datum"), "(rejected)") == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Utrecht, 4 mei 2021", "datum"), "(no match)") == 0);
	CHECK(strcmp(expand(&rs, "dossier", "21 501-02", "value"), "21501") == 0);
	CHECK(strcmp(expand(&rs, "dossier", "21 501-02", "toev"), "02") == 0);
	CHECK(strcmp(expand(&rs, "dossier", "34 843", "toev"), "") == 0);
	CHECK(strcmp(expand(&rs, "dossier", "21 501-02", "cost"), "$5 and 21 501") == 0);
	rules_free(&rs);
}

static void
test_global(void)
{
	const char *s = "Mede namens Jan,  Piet\n de Vries, Klaas. Daarna";
	const char *want[] = { "Jan", "Piet de Vries", "Klaas" };
	struct ruleset rs;
	struct buf out = BUF_INIT;
	size_t off = 0, start, end, n = 0;
	struct rule *r;

	rules_init(&rs);
	CHECK(parse(&rs, good) == 0);
	r = &rs.rule[2];
	while (rule_next(&rs, r, s, strlen(s), &off, &start, &end) == 1 && n < 5) {
		buf_clear(&out);
		rule_expand(&rs, rule_attr(r, "value"), &out);
		CHECK(n < 3 && strcmp(out.s, want[n]) == 0);
		n++;
	}
	CHECK(n == 3);
	buf_free(&out);
	rules_free(&rs);
}

/* Long subjects are matched through the JIT (when PCRE2 has one): same results. */
static void
test_long_subject(void)
{
	struct ruleset rs;
	struct buf s = BUF_INIT;
	size_t i;

	for (i = 0; i < 2000; i++)
		buf_adds(&s, "tekst zonder datum. ");
	buf_adds(&s, "Den Haag, 4 februari 2021");
	rules_init(&rs);
	CHECK(parse(&rs, good) == 0);
	CHECK(rs.rule[0].jit == 0);
	CHECK(strcmp(expand(&rs, "datum-den-haag", s.s, "datum"), "2021-02-04") == 0);
	CHECK(rs.rule[0].jit == 1);
	CHECK(strcmp(expand(&rs, "datum-den-haag", "Den Haag, 5 mei 2020", "datum"), "2020-05-05") == 0);
	buf_free(&s);
	rules_free(&rs);
}

static void
test_errors(void)
{
	CHECK(strcmp(parse_error("rule a b\n\tmatch x\nrule a c\n\tmatch y\n"),
	    "t.rules:3: rule \"a\" already defined at t.rules:1") == 0);
	CHECK(strcmp(parse_error("# x\nrule a b\n\tvalue 1\n"),
	    "t.rules:2: rule \"a\" has no \"match\" line") == 0);
	CHECK(starts(parse_error("rule a b\n\tmatch (unclosed\n"),
	    "t.rules:1: rule \"a\": pattern: missing closing parenthesis"));
	CHECK(strcmp(parse_error("rule a b\n\tvalue $who\n\tmatch (?<x>.)\n"),
	    "t.rules:1: rule \"a\": template uses $who, which the pattern does not capture") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tvalue $3\n\tmatch (.)\n"),
	    "t.rules:1: rule \"a\": template uses $3, but the pattern has 1 groups") == 0);
	CHECK(starts(parse_error("rule a b\n\tvalue ${x|shout}\n\tmatch (?<x>.)\n"),
	    "t.rules:1: rule \"a\": unknown filter \"shout\""));
	CHECK(strcmp(parse_error("rule a b\n\tvalue ${x\n\tmatch (?<x>.)\n"),
	    "t.rules:1: rule \"a\": \"${\" without \"}\" in template") == 0);
	CHECK(strcmp(parse_error("\n\tmatch x\n"),
	    "t.rules:2: indented line outside a rule (a rule starts with \"rule NAME KIND\")") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tmatch x\n\tmatch y\n"),
	    "t.rules:1: rule \"a\": a pattern on several match lines must start with (?x)") == 0);
	CHECK(strcmp(parse_error("rule a\n"),
	    "t.rules:1: expected \"rule NAME KIND\"") == 0);
	CHECK(strcmp(parse_error("rule a b c\n"),
	    "t.rules:1: expected \"rule NAME KIND\"") == 0);
	CHECK(strcmp(parse_error("rules a b\n"),
	    "t.rules:1: expected \"rule NAME KIND\", a comment or an indented line") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tvalue 1\n\tvalue 2\n\tmatch x\n"),
	    "t.rules:3: \"value\" given twice in rule \"a\"") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tvalue\n\tmatch x\n"),
	    "t.rules:2: \"value\" has no template") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tmatch\n"),
	    "t.rules:2: empty match line") == 0);
	CHECK(strcmp(parse_error("rule a/b c\n\tmatch x\n"),
	    "t.rules:1: rule name and kind may hold only letters, digits and - _ . :") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tmatch x\n\n# \xff\n"),
	    "t.rules:4: invalid UTF-8") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tvalue $$\n\tmatch caf\xc3\xa9\n"), "") == 0);
}

static void
test_nul_and_partial(void)
{
	struct ruleset rs;
	const char text[] = "rule a b\n\tmatch x\0y\n";

	rules_init(&rs);
	CHECK(rules_parse(&rs, "n.rules", text, sizeof text - 1, err, sizeof err) < 0);
	CHECK(strcmp(err, "n.rules:2: NUL byte") == 0);
	/* A bad file adds nothing; a good one after it still loads. */
	CHECK(parse(&rs, "rule ok k\n\tmatch x\nrule bad k\n") < 0);
	CHECK(rs.n == 0);
	CHECK(parse(&rs, "rule ok k\n\tmatch x\n") == 0 && rs.n == 1);
	CHECK(parse(&rs, "rule ok k\n\tmatch y\n") < 0);
	CHECK(strcmp(err, "t.rules:1: rule \"ok\" already defined at t.rules:1") == 0);
	rules_free(&rs);
}

/* Hostile input must give an error or rules, never a crash (ASan run). */
static void
test_hostile(void)
{
	static const char *pieces[] = {
		"rule ", "a ", "b", "\n", "\t", "match ", "value ", "${", "}", "$",
		"|month", "(?<x>", ")", "(?x)", "#", "\xc3", "\xa9", " ", "\\", "*",
		"{99999}", "(?R)", "x",
	};
	unsigned seed = 12345, i, k, errors = 0;
	char text[256];

	for (i = 0; i < 3000; i++) {
		struct ruleset rs;
		size_t n = 0;

		for (k = 0; k < 24; k++) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)];
			if (n + strlen(p) >= sizeof text)
				break;
			memcpy(text + n, p, strlen(p));
			n += strlen(p);
		}
		rules_init(&rs);
		if (rules_parse(&rs, "h", text, n, err, sizeof err) < 0)
			errors += strncmp(err, "h:", 2) == 0;
		else
			errors++;
		rules_free(&rs);
	}
	CHECK(errors == 3000);
}

static void
test_utf8(void)
{
	struct ruleset rs;
	struct buf b = BUF_INIT;
	size_t off = 0, start, end;
	const char bad[] = "Den Haag, 4 mei 2021 \xff";

	buf_adds(&b, "a\xff" "b\xc3" "c\xc3\xa9");
	utf8_repair(&b);
	CHECK(strcmp(b.s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9") == 0);
	buf_free(&b);
	rules_init(&rs);
	CHECK(parse(&rs, good) == 0);
	/* Invalid UTF-8 in a subject is an error, not an out-of-bounds read. */
	CHECK(rule_next(&rs, &rs.rule[0], bad, sizeof bad - 1, &off, &start, &end) == -1);
	rules_free(&rs);
}

static void
test_find(void)
{
	struct buf path = BUF_INIT;

	setenv("KST_RULES_DIR", "transformers/rules", 1);
	CHECK(rules_find("meta.rules", &path) != NULL);
	CHECK(strcmp(buf_str(&path), "transformers/rules/meta.rules") == 0);
	CHECK(rules_find("no-such.rules", &path) == NULL);
	unsetenv("KST_RULES_DIR");
	buf_free(&path);
}

/* need words: found in any ASCII case, never where they are absent; text
 * with the long s or Kelvin sign, or invalid UTF-8, goes to every rule; a
 * capital in a need word is an error at load time. */
static void
test_need(void)
{
	struct ruleset rs;
	struct need_text low = NEED_TEXT_INIT;
	const struct rule *url, *none;

	rules_init(&rs);
	CHECK(parse(&rs, "rule url u\n\tneed http www.\n\tmatch (?i)\\b(?:https?://|www\\.)\\S+\n"
	    "rule any u\n\tmatch x\n") == 0);
	url = &rs.rule[0];
	none = &rs.rule[1];
	CHECK(url->need != NULL && none->need == NULL);
	rule_need_text("Zie WWW.Example.nl", 18, &low);
	CHECK(low.all == 0 && strcmp(buf_str(&low.lower), "zie www.example.nl") == 0);
	CHECK(rule_may_match(url, &low) == 1);
	rule_need_text("Zie HTTPS://x.nl", 16, &low);
	CHECK(rule_may_match(url, &low) == 1);
	rule_need_text("htt ttp www", 11, &low);	/* every pair of "http", not the word */
	CHECK(rule_may_match(url, &low) == 0);
	rule_need_text("Geen adres hier", 15, &low);
	CHECK(rule_may_match(url, &low) == 0);
	CHECK(rule_may_match(none, &low) == 1);
	rule_need_text("\xc5\xbf geen adres", 13, &low);	/* long s */
	CHECK(low.all == 1 && rule_may_match(url, &low) == 1);
	rule_need_text("\xe2\x84\xaa geen", 8, &low);	/* Kelvin sign */
	CHECK(low.all == 1 && rule_may_match(url, &low) == 1);
	rule_need_text("geen \xff adres", 12, &low);	/* invalid UTF-8 */
	CHECK(low.all == 1 && rule_may_match(url, &low) == 1);
	rule_need_text("\xa9 geen adres", 12, &low);	/* starts inside a character */
	CHECK(low.all == 1 && rule_may_match(url, &low) == 1);
	need_text_free(&low);
	rules_free(&rs);
	CHECK(strcmp(parse_error("rule a b\n\tneed Www\n\tmatch x\n"),
	    "t.rules:1: rule \"a\": need words are ASCII without capitals") == 0);
	CHECK(strcmp(parse_error("rule a b\n\tneed w\xc3\xa9t\n\tmatch x\n"),
	    "t.rules:1: rule \"a\": need words are ASCII without capitals") == 0);
}

int
main(void)
{
	test_parse_good();
	test_global();
	test_long_subject();
	test_errors();
	test_nul_and_partial();
	test_hostile();
	test_utf8();
	test_find();
	test_need();
	return failed ? 1 : 0;
}
