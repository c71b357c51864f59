/* kst-validate - checks Kamerstuk XML against schemas/kamerstuk.xsd.
 *
 *	kst-validate [-q] [-s SCHEMA] [FILE.xml ... | -]
 *
 * The schema is loaded once and used for every file. It is found, in this
 * order: -s SCHEMA, $KST_SCHEMA, then schemas/kamerstuk.xsd in the
 * directory above the program or up to three levels further up (the
 * sanitizer build lives in out/san/bin/), then ../share/kst2xml/.
 *
 * Nothing is ever fetched: the schema and the documents are read into
 * memory by us, the parser runs with XML_PARSE_NONET, and an entity loader
 * that refuses everything stops external entities and DTDs. Every problem
 * is one line "kst-validate: FILE:LINE: message" on stderr. */
#include "buf.h"
#include "kst.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#define MAXERRORS 100		/* per file; a broken file can make thousands */
#define NAMESPACE "{urn:kst2xml:kamerstuk:1}"

#if LIBXML_VERSION >= 21200
typedef const xmlError *error_arg;
#else
typedef xmlErrorPtr error_arg;
#endif

struct report {
	const char *name;	/* the file being checked, as given */
	unsigned long errors;
};

static int quiet;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-q] [-s SCHEMA] [FILE.xml ... | -]\n"
	    "Validates Kamerstuk XML against schemas/kamerstuk.xsd.\n"
	    "  -q         say nothing about valid files\n"
	    "  -s SCHEMA  use this schema (else $KST_SCHEMA, else the one "
	    "installed with the program)\n", kst_progname);
}

/* Prints one libxml2 error as a single line, the namespace URI left out of
 * element names so that the message reads like the document. */
static void
on_error(void *data, error_arg err)
{
	struct report *rep = data;
	struct buf msg = BUF_INIT;
	const char *m, *ns;
	size_t i;

	if (err == NULL || err->level == XML_ERR_WARNING)
		return;
	if (++rep->errors > MAXERRORS)
		return;
	m = err->message ? err->message : "error";
	while ((ns = strstr(m, NAMESPACE)) != NULL) {
		buf_add(&msg, m, (size_t)(ns - m));
		m = ns + strlen(NAMESPACE);
	}
	buf_adds(&msg, m);
	while (msg.len && (msg.s[msg.len - 1] == '\n' || msg.s[msg.len - 1] == ' '))
		msg.s[--msg.len] = '\0';
	for (i = 0; i < msg.len; i++)
		if (msg.s[i] == '\n' || msg.s[i] == '\r' || msg.s[i] == '\t')
			msg.s[i] = ' ';
	fprintf(stderr, "%s: %s:%d: %s\n", kst_progname, rep->name, err->line,
	    msg.s);
	buf_free(&msg);
}

/* libxml2 prints some things through the generic handler; we want only
 * our structured lines. */
static void
silent(void *data, const char *fmt, ...)
{
	(void)data;
	(void)fmt;
}

static xmlParserInputPtr
refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

/* Reads all of fp; returns 0, or -1 with errno set. */
static int
slurp(FILE *fp, struct buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (b->len + n > INT_MAX) {
			errno = EFBIG;
			return -1;
		}
		buf_add(b, chunk, n);
	}
	return ferror(fp) ? -1 : 0;
}

static int
read_file(const char *path, struct buf *b)
{
	FILE *fp;
	int rc, saved;

	if (strcmp(path, "-") == 0)
		return slurp(stdin, b);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return -1;
	rc = slurp(fp, b);
	saved = errno;
	fclose(fp);
	errno = saved;
	return rc;
}

static int
readable(const char *path)
{
	return path && *path && access(path, R_OK) == 0;
}

/* The schema next to the program: ../schemas/kamerstuk.xsd from the
 * directory of /proc/self/exe, or further up. */
static char *
schema_beside_program(void)
{
	static const char *tries[] = { "/../schemas/kamerstuk.xsd",
		"/../../schemas/kamerstuk.xsd", "/../../../schemas/kamerstuk.xsd",
		"/../../../../schemas/kamerstuk.xsd",
		"/../share/kst2xml/kamerstuk.xsd" };
	char exe[PATH_MAX], *slash;
	struct buf path = BUF_INIT;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	for (i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		buf_clear(&path);
		buf_adds(&path, exe);
		buf_adds(&path, tries[i]);
		if (readable(path.s))
			return buf_detach(&path);
	}
	buf_free(&path);
	return NULL;
}

static char *
find_schema(const char *option)
{
	const char *env = getenv("KST_SCHEMA");
	char *path;

	if (option)
		return kst_xstrdup(option);
	if (env && *env)
		return kst_xstrdup(env);
	path = schema_beside_program();
	if (path == NULL)
		kst_die(KST_ENOFILE, "schemas/kamerstuk.xsd not found beside the "
		    "program: give it with -s or $KST_SCHEMA");
	return path;
}

static xmlSchemaPtr
load_schema(const char *path)
{
	struct buf text = BUF_INIT;
	struct report rep = { path, 0 };
	xmlSchemaParserCtxtPtr pctxt;
	xmlSchemaPtr schema;

	if (read_file(path, &text) < 0)
		kst_die(KST_ENOFILE, "%s: cannot read schema: %s", path,
		    strerror(errno));
	xmlSetStructuredErrorFunc(&rep, on_error);
	pctxt = xmlSchemaNewMemParserCtxt(text.s ? text.s : "", (int)text.len);
	if (pctxt == NULL)
		kst_die(KST_EINTERNAL, "%s: out of memory", path);
	xmlSchemaSetParserStructuredErrors(pctxt, on_error, &rep);
	schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	buf_free(&text);
	if (schema == NULL)
		kst_die(KST_EINTERNAL, "%s: not a usable XML schema", path);
	return schema;
}

/* Returns KST_OK, KST_EINVALID or KST_ENOFILE for one file. */
static int
validate(xmlSchemaValidCtxtPtr vctxt, const char *path)
{
	struct buf text = BUF_INIT;
	struct report rep = { path, 0 };
	xmlParserCtxtPtr pctxt;
	xmlDocPtr doc;

	if (read_file(path, &text) < 0) {
		kst_warn("%s: cannot read: %s", path, strerror(errno));
		buf_free(&text);
		return KST_ENOFILE;
	}
	xmlSetStructuredErrorFunc(&rep, on_error);
	xmlSchemaSetValidStructuredErrors(vctxt, on_error, &rep);
	pctxt = xmlNewParserCtxt();
	if (pctxt == NULL)
		kst_die(KST_EINTERNAL, "out of memory");
	doc = xmlCtxtReadMemory(pctxt, text.s ? text.s : "", (int)text.len,
	    path, NULL, XML_PARSE_NONET);
	if (doc != NULL && rep.errors == 0 && xmlSchemaValidateDoc(vctxt, doc) != 0
	    && rep.errors == 0)
		rep.errors++;	/* failed without saying why: still invalid */
	if (doc == NULL && rep.errors == 0) {
		fprintf(stderr, "%s: %s:0: not well-formed XML\n", kst_progname,
		    path);
		rep.errors++;
	}
	if (rep.errors > MAXERRORS)
		fprintf(stderr, "%s: %s: %lu more errors not shown\n",
		    kst_progname, path, rep.errors - MAXERRORS);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(pctxt);
	buf_free(&text);
	if (rep.errors)
		return KST_EINVALID;
	if (!quiet)
		printf("%s: valid\n", path);
	return KST_OK;
}

static int
worse(int a, int b)
{
	/* an unreadable file outranks an invalid one */
	if (a == KST_ENOFILE || b == KST_ENOFILE)
		return KST_ENOFILE;
	return a != KST_OK ? a : b;
}

int
main(int argc, char **argv)
{
	const char *schema_opt = NULL;
	char *schema_path;
	xmlSchemaPtr schema;
	xmlSchemaValidCtxtPtr vctxt;
	int c, i, status = KST_OK;
	static char *stdin_only[] = { "-", NULL };

	kst_setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return KST_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", kst_progname, KST_VERSION);
		return KST_OK;
	}
	opterr = 0;
	while ((c = getopt(argc, argv, "qs:")) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 's': schema_opt = optarg; break;
		default:
			kst_die(KST_EUSAGE, "bad option -%c (usage: %s [-q] "
			    "[-s SCHEMA] [FILE.xml ... | -])", optopt,
			    kst_progname);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		argc = 1;
		argv = stdin_only;
	}
	LIBXML_TEST_VERSION
	xmlSetGenericErrorFunc(NULL, silent);
	xmlSetExternalEntityLoader(refuse_entity);
	schema_path = find_schema(schema_opt);
	schema = load_schema(schema_path);
	vctxt = xmlSchemaNewValidCtxt(schema);
	if (vctxt == NULL)
		kst_die(KST_EINTERNAL, "out of memory");
	for (i = 0; i < argc; i++)
		status = worse(status, validate(vctxt, argv[i]));
	xmlSchemaFreeValidCtxt(vctxt);
	xmlSchemaFree(schema);
	xmlCleanupParser();
	free(schema_path);
	kst_close_stdout();
	return status;
}
