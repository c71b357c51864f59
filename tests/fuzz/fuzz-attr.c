/* fuzz-attr.c - libFuzzer harness for attribute decoding (attr_get,
 * attr_add in lib/stream.c).
 *
 * Input: first byte = key length k (mod 16), then k key bytes, then the
 * attribute field. Checks, beyond "no crash, no sanitizer report":
 *  - attr_get on the hostile field with that key and with keys seen in real
 *    streams;
 *  - round trip: attr_add(key, value) then attr_get(key) gives value back,
 *    for the rest of the input as value (any bytes but NUL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

static const char *known[] = { "id", "noot", "nr", "level", "marker", "why",
	"type", "parlId", "url", "datum", "functie", "toevoeging", "vervolg" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf value = BUF_INIT, attrs = BUF_INIT;
	char key[17], *field;
	size_t k, i;

	if (size == 0)
		return 0;
	k = data[0] % 16;
	if (k + 1 > size)
		return 0;
	memcpy(key, data + 1, k);
	key[k] = '\0';
	/* Keys are ASCII identifiers: stop at anything else. */
	for (i = 0; i < k; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z')))
			key[i] = '\0';
	field = malloc(size - k);
	memcpy(field, data + 1 + k, size - k - 1);
	field[size - k - 1] = '\0';

	attr_get(field, key, &value);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		attr_get(field, known[i], &value);

	if (key[0] != '\0') {
		attr_add(&attrs, "x", "1");
		attr_add(&attrs, key, field);
		attr_add(&attrs, "zz", "&=%");
		buf_clear(&value);
		if (!attr_get(attr_field(&attrs), key, &value))
			abort();
		if (strcmp(key, "x") != 0 && strcmp(key, "zz") != 0 &&
		    strcmp(buf_str(&value), field) != 0)
			abort();
	}
	buf_free(&value);
	buf_free(&attrs);
	free(field);
	return 0;
}
