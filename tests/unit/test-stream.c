/* Unit tests for lib/stream.c: escaping, parsing, attributes. */
#include "stream.h"
#include "kst.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

#define CHECK(cond) do { if (cond) printf("ok - %s\n", #cond); \
	else { printf("not ok - %s (line %d)\n", #cond, __LINE__); failed++; } } while (0)

static const char *
parse(const char *text, struct record *rec)
{
	static char line[256];

	snprintf(line, sizeof line, "%s", text);
	return record_parse(line, strlen(line), rec);
}

static void
test_parse(void)
{
	struct record rec;

	CHECK(parse("line\t1\ta\\tb\\\\c\\nd", &rec) == NULL);
	CHECK(rec.nfield == 3);
	CHECK(strcmp(rec.field[2], "a\tb\\c\nd") == 0);
	CHECK(rec.len[2] == 7);
	CHECK(parse("line\tbad\\x", &rec) != NULL);
	CHECK(parse("line\ttrailing\\", &rec) != NULL);
	CHECK(parse("", &rec) != NULL);
	/* an empty first line reaches record_parse with no buffer at all */
	CHECK(record_parse(NULL, 0, &rec) != NULL);
	CHECK(parse("\tno kind", &rec) != NULL);
	CHECK(parse("kind\t\t", &rec) == NULL && rec.nfield == 3 && rec.len[2] == 0);
}

static void
test_roundtrip(void)
{
	const char *text = "tab\there\\ and\nnewline\r";
	char out[256] = "";
	struct record rec;
	FILE *fp = fmemopen(out, sizeof out, "w");

	rec_begin(fp, "block");
	rec_field(fp, text);
	rec_end(fp);
	fclose(fp);
	out[strcspn(out, "\n")] = '\0';
	CHECK(record_parse(out, strlen(out), &rec) == NULL);
	CHECK(rec.nfield == 2 && strcmp(rec.field[1], text) == 0);
}

static void
test_attrs(void)
{
	struct buf a = BUF_INIT, v = BUF_INIT;

	CHECK(strcmp(attr_field(&a), "-") == 0);
	attr_add(&a, "url", "https://x.nl/?a=1&b=2%");
	attr_add(&a, "nr", "3");
	CHECK(strstr(a.s, "&nr=3") != NULL);
	CHECK(attr_get(a.s, "url", &v) && strcmp(v.s, "https://x.nl/?a=1&b=2%") == 0);
	CHECK(attr_get(a.s, "nr", &v) && strcmp(v.s, "3") == 0);
	CHECK(!attr_get(a.s, "n", &v));
	CHECK(!attr_get("-", "nr", &v));
	CHECK(attr_get("k=%4", "k", &v) && strcmp(v.s, "%4") == 0);
	buf_free(&a);
	buf_free(&v);
}

int
main(void)
{
	test_parse();
	test_roundtrip();
	test_attrs();
	return failed ? 1 : 0;
}
