/* fuzz-record.c - libFuzzer harness for record_parse (lib/stream.c).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - every parsed field is NUL-terminated at its reported length and holds
 *    no NUL (the parser rejects NUL bytes);
 *  - a parsed record written back with rec_write parses to the same fields
 *    (the escaping round-trips). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

static void
check_fields(const struct record *rec)
{
	size_t i;

	for (i = 0; i < rec->nfield; i++)
		if (strlen(rec->field[i]) != rec->len[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record rec, again;
	char *line, *out = NULL;
	size_t outlen = 0, i;
	FILE *fp;

	/* The reader hands record_parse a NUL-terminated line: len+1 bytes. */
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	if (record_parse(line, size, &rec) != NULL) {
		free(line);
		return 0;
	}
	check_fields(&rec);
	fp = open_memstream(&out, &outlen);
	rec_write(fp, &rec);
	fclose(fp);
	if (outlen == 0 || out[outlen - 1] != '\n')
		abort();
	out[outlen - 1] = '\0';
	if (record_parse(out, outlen - 1, &again) != NULL)
		abort();
	if (again.nfield != rec.nfield)
		abort();
	for (i = 0; i < rec.nfield; i++)
		if (again.len[i] != rec.len[i] ||
		    memcmp(again.field[i], rec.field[i], rec.len[i]) != 0)
			abort();
	free(out);
	free(line);
	return 0;
}
