/* kst-extract - PDF to the kst stream: pages, text lines, and the runs inside
 * a line whose size, rise or style differ (superscript footnote markers).
 *
 * The only stage that links poppler-glib. Output is buffered and written only
 * when the whole document was read, so a failure never leaves partial output.
 * See docs/stream.md and docs/man/kst-extract.1. */
#include "kst.h"
#include "stream.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <poppler.h>

#define DEFAULT_MAX_PAGES 5000L
#define DEFAULT_MAX_BYTES (256L << 20)
#define MAGIC_WINDOW 1024
#define EOF_WINDOW 2048

/* A glyph bbox is the font's ascent..descent box; the baseline sits this
 * fraction of the box height above its bottom. Typical Latin text faces have
 * descent/(ascent+descent) between 0.17 and 0.27; the error this makes in a
 * run's rise is that spread times the height difference: a few tenths of a
 * point, far below a superscript's rise. */
#define DESCENT_SHARE 0.21

/* A line is split where two glyphs are further apart than this many times
 * the line's font size (and at least GAP_MIN points): a margin column and the
 * body column must never share a line record. */
#define GAP_EMS 2.5
#define GAP_MIN 14.0

/* Poppler adds a space wherever a word ends; one narrower than this many
 * ems is not a space a reader sees (see narrow_space). A real word space is
 * 0.2 em or more even in tightly justified text. */
#define NARROW_SPACE_EMS 0.08

static const char usage[] =
	"usage: kst-extract [--max-pages N] [--max-bytes N] [FILE.pdf | -]\n";

struct options {
	long max_pages;
	long max_bytes;
	const char *file;	/* NULL or "-" for standard input */
};

struct input {
	char *data;
	size_t len;
	const char *path;	/* as written in the source record */
	const char *name;	/* for messages */
};

/* What one poppler attribute range says about its glyphs. */
struct face {
	double size;
	char font[128];		/* subset prefix stripped, printable ASCII */
	int font_id;		/* equal fonts on a page have equal ids */
	int style;		/* STYLE_BOLD | STYLE_ITALIC */
};

enum { STYLE_BOLD = 1, STYLE_ITALIC = 2 };
static const char *const style_name[] = { "-", "b", "i", "bi" };

struct glyph {
	gunichar c;
	double x1, y1, x2, y2;
	int face;		/* index into faces, -1 when unknown */
	int ink;		/* shows something: see shows_ink */
	/* The box in the frame of its line's writing direction (see
	 * to_frame): along grows in reading order, across grows downward. */
	double a1, a2, c1, c2;
	double base;		/* estimated baseline, across coordinate */
};

/* Writing directions: poppler's text page is in the page's display
 * orientation, so the text of a rotated page runs down or up. */
enum dir { DIR_RIGHT, DIR_DOWN, DIR_LEFT, DIR_UP };

struct page_text {
	struct glyph *g;
	size_t n;
	enum dir dir;		/* most text on the page runs this way */
	struct face *faces;
	size_t nface;
};

/* The normalised text of one line and, per glyph, where it landed. */
struct line_text {
	struct buf text;
	size_t *start;		/* byte offset of glyph i in text */
	size_t *end;
	size_t cap;
};

struct totals {
	unsigned long glyphs;	/* printable glyphs on all pages */
	int misaligned;		/* pages whose text and layout disagreed */
};

/* ---- numbers in records ---- */

/* The extractor writes a dozen numbers a line, and fprintf spends some 2000
 * instructions on each "%.2f": 2-3 % of the run on a long document. These
 * write the very bytes of rec_long_field and rec_num_field. */
static void
long_field(FILE *out, long v)
{
	char s[24], *p = s + sizeof(s);
	unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	*--p = '\t';
	fwrite(p, 1, (size_t)(s + sizeof(s) - p), out);
}

/* "%.2f" rounds the exact value of v to hundredths, half to even. v * 100
 * needs at most 53 + 5 significant bits, so it is exact in a long double of
 * 64 bits or more, and llrintl rounds it half to even (the default rounding
 * mode, which printf follows too). */
static void
num_field(FILE *out, double v)
{
	char s[32], *p = s + sizeof(s);
	long long k;

	if (LDBL_MANT_DIG < 64 || !(fabs(v) < 1e15)) {
		rec_num_field(out, v);
		return;
	}
	if (v > -0.005 && v < 0.005)
		v = 0;	/* as rec_num_field: never "-0.00" */
	k = llrintl((long double)v * 100);
	if (k < 0)
		k = -k;
	*--p = (char)('0' + k % 10);
	*--p = (char)('0' + k / 10 % 10);
	*--p = '.';
	k /= 100;
	do {
		*--p = (char)('0' + k % 10);
		k /= 10;
	} while (k > 0);
	if (signbit(v))
		*--p = '-';
	*--p = '\t';
	fwrite(p, 1, (size_t)(s + sizeof(s) - p), out);
}

/* ---- diagnostics and quiet poppler ---- */

/* What poppler complained about: its errors (not its warnings) make a
 * warn record, and the last one explains a file it cannot open. */
static struct {
	unsigned long errors;
	char first[160];
	char last[160];
} poppler_said;

/* Poppler may quote bytes of the file: keep printable ASCII only, so the
 * message is safe on a terminal and in the stream. */
static void
copy_message(char *dst, const char *src, size_t cap)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = src[i] >= ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static void
quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer data)
{
	(void)domain; (void)level; (void)data;
	if (msg == NULL || strstr(msg, "rror") == NULL)
		return;
	if (poppler_said.errors++ == 0)
		copy_message(poppler_said.first, msg, sizeof(poppler_said.first));
	copy_message(poppler_said.last, msg, sizeof(poppler_said.last));
}

static GLogWriterOutput
quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
    gpointer data)
{
	(void)level; (void)fields; (void)n; (void)data;
	return G_LOG_WRITER_HANDLED;
}

/* Poppler reports syntax errors of damaged files through GLib logging;
 * our one-line diagnostic says what matters, so its chatter is dropped. */
static void
silence_poppler(void)
{
	g_log_set_default_handler(quiet_log, NULL);
	g_log_set_handler("Poppler", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL
	    | G_LOG_FLAG_RECURSION, quiet_log, NULL);
	g_log_set_writer_func(quiet_writer, NULL, NULL);
}

/* ---- command line ---- */

static long
parse_count(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v <= 0)
		kst_die(KST_EUSAGE, "%s: not a positive number: %s", opt, s);
	return v;
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	int i;

	o->max_pages = DEFAULT_MAX_PAGES;
	o->max_bytes = DEFAULT_MAX_BYTES;
	o->file = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			fputs("Writes the kst stream (docs/stream.md) of a PDF: "
			    "pages, text lines and their runs.\n", stdout);
			kst_close_stdout();
			exit(KST_OK);
		} else if (strcmp(a, "--version") == 0) {
			printf("kst-extract %s\n", KST_VERSION);
			kst_close_stdout();
			exit(KST_OK);
		} else if (strcmp(a, "--max-pages") == 0 && i + 1 < argc) {
			o->max_pages = parse_count(a, argv[++i]);
		} else if (strcmp(a, "--max-bytes") == 0 && i + 1 < argc) {
			o->max_bytes = parse_count(a, argv[++i]);
		} else if (strcmp(a, "--") == 0 && i + 2 == argc) {
			o->file = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			fputs(usage, stderr);
			exit(KST_EUSAGE);
		} else if (o->file == NULL) {
			o->file = a;
		} else {
			fputs(usage, stderr);
			exit(KST_EUSAGE);
		}
	}
}

/* ---- input ---- */

static void
read_all(int fd, struct input *in, long max_bytes)
{
	size_t cap = 1 << 16;
	ssize_t got;

	in->data = kst_xmalloc(cap);
	in->len = 0;
	for (;;) {
		if (in->len == cap) {
			cap *= 2;
			in->data = kst_xrealloc(in->data, cap);
		}
		got = read(fd, in->data + in->len, cap - in->len);
		if (got == 0)
			break;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			kst_die(KST_ENOFILE, "%s: %s", in->name, strerror(errno));
		}
		in->len += (size_t)got;
		if (in->len > (size_t)max_bytes)
			kst_die(KST_ELIMIT, "%s: larger than %ld bytes "
			    "(--max-bytes)", in->name, max_bytes);
	}
}

static void
load_input(const struct options *o, struct input *in)
{
	struct stat st;
	int fd;

	if (o->file == NULL || strcmp(o->file, "-") == 0) {
		in->path = "-";
		in->name = "<stdin>";
		read_all(STDIN_FILENO, in, o->max_bytes);
		return;
	}
	in->path = in->name = o->file;
	fd = open(o->file, O_RDONLY);
	if (fd < 0)
		kst_die(KST_ENOFILE, "%s: %s", in->name, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		kst_die(KST_ENOFILE, "%s: is a directory", in->name);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
	    && st.st_size > (off_t)o->max_bytes)
		kst_die(KST_ELIMIT, "%s: %lld bytes, more than --max-bytes %ld",
		    in->name, (long long)st.st_size, o->max_bytes);
	read_all(fd, in, o->max_bytes);
	close(fd);
}

static int
has_pdf_magic(const struct input *in)
{
	size_t n = in->len < MAGIC_WINDOW ? in->len : MAGIC_WINDOW, i;

	for (i = 0; i + 5 <= n; i++)
		if (memcmp(in->data + i, "%PDF-", 5) == 0)
			return 1;
	return 0;
}

static PopplerDocument *
open_document(const struct input *in)
{
	PopplerDocument *doc;
	GBytes *bytes;
	GError *err = NULL;

	bytes = g_bytes_new_static(in->data, in->len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &err);
	g_bytes_unref(bytes);
	if (doc != NULL)
		return doc;
	if (err != NULL && err->domain == POPPLER_ERROR
	    && err->code == POPPLER_ERROR_ENCRYPTED)
		kst_die(KST_EENCRYPTED, "%s: encrypted PDF that needs a "
		    "password; cannot extract its text", in->name);
	kst_die(KST_EDAMAGED, "%s: damaged or truncated PDF: %s", in->name,
	    poppler_said.errors ? poppler_said.last
	    : err != NULL && err->message ? err->message : "cannot open it");
}

/* ---- faces ---- */

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* "MinionPro-It", "Frutiger-BoldIt": Adobe's short italic suffix. */
static int
short_italic(const char *font)
{
	const char *dash = strrchr(font, '-');
	size_t n;

	if (dash == NULL)
		return 0;
	n = strlen(dash);
	return n >= 3 && strcmp(dash + n - 2, "It") == 0;
}

static int
face_style(const char *font)
{
	int bold, italic;

	bold = contains(font, "Bold") || contains(font, "Black")
	    || contains(font, "Semibold") || contains(font, "SemiBold")
	    || contains(font, "Heavy") || contains(font, "bold")
	    || contains(font, "Demi");
	italic = contains(font, "Italic") || contains(font, "Oblique")
	    || contains(font, "italic") || contains(font, "Kursiv")
	    || short_italic(font);
	return (bold ? STYLE_BOLD : 0) | (italic ? STYLE_ITALIC : 0);
}

/* Copies a PDF font name without its subset tag ("ABCDEF+"), keeping only
 * printable ASCII so the field is safe for any reader. */
static void
face_font(const char *name, char *out, size_t cap)
{
	size_t i, o = 0;

	if (name == NULL || *name == '\0') {
		strcpy(out, "-");
		return;
	}
	if (strlen(name) > 7 && name[6] == '+') {
		for (i = 0; i < 6 && name[i] >= 'A' && name[i] <= 'Z'; i++)
			;
		if (i == 6)
			name += 7;
	}
	for (i = 0; name[i] != '\0' && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)name[i];

		out[o++] = c > ' ' && c < 0x7f ? (char)c : '_';
	}
	out[o] = '\0';
	if (o == 0)
		strcpy(out, "-");
}

static double
finite_or_zero(double v)
{
	if (!isfinite(v))
		return 0;
	if (v > 1e6)
		return 1e6;
	if (v < -1e6)
		return -1e6;
	return v;
}

/* fmin and fmax are calls into libm (the compiler must keep their NaN
 * rules); these are one instruction each, and the same for the finite
 * numbers they see here: every coordinate went through finite_or_zero. */
static double
lesser(double a, double b)
{
	return a < b ? a : b;
}

static double
greater(double a, double b)
{
	return a > b ? a : b;
}

/* ---- page text ---- */

/* Decodes one UTF-8 sequence leniently: poppler may hand out encoded
 * surrogates or other junk from hostile ToUnicode maps. */
static gunichar
next_char(const char **sp)
{
	const unsigned char *s = (const unsigned char *)*sp;
	gunichar c;
	int n, i;

	if (s[0] < 0x80) {
		*sp += 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] < 0xe0) {
		c = s[0] & 0x1f; n = 1;
	} else if (s[0] >= 0xe0 && s[0] < 0xf0) {
		c = s[0] & 0x0f; n = 2;
	} else if (s[0] >= 0xf0 && s[0] < 0xf5) {
		c = s[0] & 0x07; n = 3;
	} else {
		*sp += 1;
		return 0xfffd;
	}
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*sp += i;
			return 0xfffd;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*sp += n + 1;
	if (c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return 0xfffd;
	return c;
}

static void
load_faces(GList *attrs, struct page_text *pt)
{
	GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
	GList *l;
	size_t i = 0;

	pt->nface = g_list_length(attrs);
	pt->faces = kst_xmalloc(pt->nface * sizeof(*pt->faces));
	for (l = attrs; l != NULL; l = l->next, i++) {
		PopplerTextAttributes *a = l->data;
		struct face *f = &pt->faces[i];
		gpointer id;

		f->size = finite_or_zero(a->font_size);
		face_font(a->font_name, f->font, sizeof(f->font));
		f->style = face_style(f->font);
		if (!g_hash_table_lookup_extended(ids, f->font, NULL, &id)) {
			id = GINT_TO_POINTER(g_hash_table_size(ids));
			g_hash_table_insert(ids, f->font, id);
		}
		f->font_id = GPOINTER_TO_INT(id);
	}
	g_hash_table_destroy(ids);
}

static void
assign_faces(GList *attrs, struct page_text *pt)
{
	GList *l;
	int i = 0;

	for (l = attrs; l != NULL; l = l->next, i++) {
		PopplerTextAttributes *a = l->data;
		long k;

		for (k = a->start_index; k <= a->end_index; k++)
			if (k >= 0 && (size_t)k < pt->n)
				pt->g[k].face = i;
	}
}

/* Reads text, glyph boxes and attributes of a page: three views of the same
 * cached poppler text page, aligned character by character. Returns 0 when
 * their lengths disagree (then the shorter prefix is used). */
static int
load_page(PopplerPage *page, struct page_text *pt)
{
	PopplerRectangle *rects = NULL;
	guint nrect = 0;
	GList *attrs;
	char *text;
	const char *s;
	size_t n = 0, cap;
	int aligned = 1;

	memset(pt, 0, sizeof(*pt));
	text = poppler_page_get_text(page);
	if (text == NULL)
		return 1;
	if (!poppler_page_get_text_layout(page, &rects, &nrect))
		nrect = 0;
	cap = strlen(text) + 1;
	pt->g = kst_xmalloc(cap * sizeof(*pt->g));
	for (s = text; *s != '\0' && n < nrect; n++) {
		struct glyph *g = &pt->g[n];

		g->c = next_char(&s);
		g->x1 = finite_or_zero(rects[n].x1);
		g->y1 = finite_or_zero(rects[n].y1);
		g->x2 = finite_or_zero(rects[n].x2);
		g->y2 = finite_or_zero(rects[n].y2);
		if (g->x2 < g->x1) { double t = g->x1; g->x1 = g->x2; g->x2 = t; }
		if (g->y2 < g->y1) { double t = g->y1; g->y1 = g->y2; g->y2 = t; }
		g->face = -1;
	}
	if (*s != '\0' || n != nrect)
		aligned = 0;
	pt->n = n;
	attrs = poppler_page_get_text_attributes(page);
	load_faces(attrs, pt);
	assign_faces(attrs, pt);
	poppler_page_free_text_attributes(attrs);
	g_free(rects);
	g_free(text);
	return aligned;
}

static void
free_page(struct page_text *pt)
{
	free(pt->g);
	free(pt->faces);
}

/* ---- one line ---- */

/* Spaces become ' ' in the text. */
static int
is_space(gunichar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000
	    || (c >= 0x2000 && c <= 0x200a);
}

/* Control characters and invisible format characters carry no text:
 * poppler makes the former from glyphs it cannot map. */
static int
is_dropped(gunichar c)
{
	if (c >= 0x20 && c < 0x7f)
		return 0;	/* most glyphs: answered at once */
	return (c < 0x20 && c != '\t') || (c >= 0x7f && c < 0xa0)
	    || (c >= 0x200b && c <= 0x200d) || c == 0x2060
	    || c == 0xfffe || c == 0xffff || c == 0xfeff;
}

static const char *
ligature(gunichar c)
{
	static const char *const lig[] = {
		"ff", "fi", "fl", "ffi", "ffl", "\xc5\xbft", "st"
	};

	if (c >= 0xfb00 && c <= 0xfb06)
		return lig[c - 0xfb00];
	return NULL;
}

static void
line_reserve(struct line_text *lt, size_t n)
{
	if (n <= lt->cap)
		return;
	lt->cap = n * 2;
	lt->start = kst_xrealloc(lt->start, lt->cap * sizeof(*lt->start));
	lt->end = kst_xrealloc(lt->end, lt->cap * sizeof(*lt->end));
}

/* Appends the NFC form of glyphs [a, b) (one starter and what combines
 * with it) and records their byte range. */
static void
add_cluster(struct line_text *lt, const struct glyph *g, size_t a, size_t b,
    size_t base)
{
	char tmp[64];
	struct buf raw = BUF_INIT;
	size_t i, from = lt->text.len;
	char *nfc;

	if (b - a == 1 && g[a].c < 0x80) {
		buf_addc(&lt->text, (char)g[a].c);
	} else if (b - a == 1 && g[a].c < 0x300) {
		buf_add(&lt->text, tmp, (size_t)g_unichar_to_utf8(g[a].c, tmp));
	} else {
		for (i = a; i < b; i++) {
			const char *l = ligature(g[i].c);

			if (l != NULL)
				buf_adds(&raw, l);
			else
				buf_add(&raw, tmp,
				    (size_t)g_unichar_to_utf8(g[i].c, tmp));
		}
		nfc = g_utf8_normalize(buf_str(&raw), (gssize)raw.len,
		    G_NORMALIZE_NFC);
		buf_adds(&lt->text, nfc != NULL ? nfc : buf_str(&raw));
		g_free(nfc);
		buf_free(&raw);
	}
	for (i = a; i < b; i++) {
		lt->start[i - base] = from;
		lt->end[i - base] = lt->text.len;
	}
}

/* g's extent in direction d, growing in reading order. */
static void
along(const struct glyph *g, enum dir d, double *a1, double *a2)
{
	switch (d) {
	case DIR_RIGHT: *a1 = g->x1; *a2 = g->x2; break;
	case DIR_LEFT: *a1 = -g->x2; *a2 = -g->x1; break;
	case DIR_DOWN: *a1 = g->y1; *a2 = g->y2; break;
	case DIR_UP: *a1 = -g->y2; *a2 = -g->y1; break;
	}
}

/* Puts g's box into the frame of direction d: "along" grows in reading
 * order, "across" grows from the top of the glyphs to their bottom, so the
 * baseline is near the across maximum whatever way the text runs (glyph
 * tops point right in text running down, left in text running up). */
static void
to_frame(struct glyph *g, enum dir d)
{
	along(g, d, &g->a1, &g->a2);
	switch (d) {
	case DIR_RIGHT: g->c1 = g->y1; g->c2 = g->y2; break;
	case DIR_LEFT: g->c1 = -g->y2; g->c2 = -g->y1; break;
	case DIR_DOWN: g->c1 = -g->x2; g->c2 = -g->x1; break;
	case DIR_UP: g->c1 = g->x1; g->c2 = g->x2; break;
	}
	g->base = g->c2 - DESCENT_SHARE * (g->c2 - g->c1);
}

/* The across coordinate back in page coordinates (y, or x for vertical). */
static double
from_frame(double across, enum dir d)
{
	return d == DIR_RIGHT || d == DIR_UP ? across : -across;
}

static enum dir
direction(const struct glyph *p, const struct glyph *q)
{
	double dx = (q->x1 + q->x2 - p->x1 - p->x2) / 2;
	double dy = (q->y1 + q->y2 - p->y1 - p->y2) / 2;

	if (fabs(dx) >= fabs(dy))
		return dx >= 0 ? DIR_RIGHT : DIR_LEFT;
	return dy >= 0 ? DIR_DOWN : DIR_UP;
}

/* True for a space poppler put between two glyphs of one row that nearly
 * touch: it does so where the font size changes, as before a superscript
 * footnote marker ("kapitaalmarkt.1"), though nothing was printed there. */
static int
narrow_space(const struct glyph *g, size_t i, size_t a, size_t b, double size)
{
	size_t p = i, q = i + 1;
	double gap, overlap;

	while (p > a && is_space(g[p - 1].c))
		p--;
	while (q < b && is_space(g[q].c))
		q++;
	if (p == a || q == b || g[p - 1].c == '\n' || g[q].c == '\n')
		return 0;
	p--;
	overlap = lesser(g[p].c2, g[q].c2) - greater(g[p].c1, g[q].c1);
	if (overlap < 0.5 * lesser(g[p].c2 - g[p].c1, g[q].c2 - g[q].c1))
		return 0;	/* not side by side */
	gap = g[q].a1 - g[p].a2;
	return gap < NARROW_SPACE_EMS * size && gap > -size;
}

/* A mark that combines with the character before it. None is below
 * U+0300, which spares the lookup for most glyphs. */
static int
combines(gunichar c)
{
	return c >= 0x300 && !is_dropped(c) && !is_space(c)
	    && g_unichar_combining_class(c) != 0;
}

/* Builds the text of glyphs [a, b): ligatures expanded, NFC, control
 * characters and narrow spaces dropped (their range is empty). */
static void
line_build(struct line_text *lt, const struct glyph *g, size_t a, size_t b,
    double size)
{
	size_t i, j;

	buf_clear(&lt->text);
	line_reserve(lt, b - a + 1);
	for (i = a; i < b; i = j) {
		j = i + 1;
		if (is_dropped(g[i].c)) {
			lt->start[i - a] = lt->end[i - a] = lt->text.len;
			continue;
		}
		if (is_space(g[i].c) && narrow_space(g, i, a, b, size)) {
			lt->start[i - a] = lt->end[i - a] = lt->text.len;
			continue;
		}
		if (is_space(g[i].c)) {
			buf_addc(&lt->text, ' ');
			lt->start[i - a] = lt->text.len - 1;
			lt->end[i - a] = lt->text.len;
			continue;
		}
		while (j < b && combines(g[j].c))
			j++;
		add_cluster(lt, g, i, j, a);
	}
}

/* A glyph that shows ink. No-break spaces stay in the text as printed but,
 * like spaces, neither start nor end a line nor count for its box. */
static int
shows_ink(gunichar c)
{
	return !is_space(c) && !is_dropped(c) && c != 0xa0 && c != 0x202f;
}

static int
printable(const struct glyph *g)
{
	return g->ink;
}

static int
same_face(const struct page_text *pt, int a, int b)
{
	const struct face *fa = &pt->faces[a], *fb = &pt->faces[b];

	return a == b || (fabs(fa->size - fb->size) < 0.005
	    && fa->font_id == fb->font_id);
}

/* The face carried by most printable glyphs of [a, b); ties go to the
 * first seen. Faces come in long stretches, so few distinct ones a line. */
static int
dominant_face(const struct page_text *pt, size_t a, size_t b)
{
	enum { SLOTS = 16 };
	int face[SLOTS];
	size_t count[SLOTS], nslot = 0, i, k, best = 0;

	for (i = a; i < b; i++) {
		int f = pt->g[i].face;

		if (f < 0 || !printable(&pt->g[i]))
			continue;
		for (k = 0; k < nslot && !same_face(pt, face[k], f); k++)
			;
		if (k == nslot) {
			if (nslot == SLOTS)
				continue;
			face[nslot] = f;
			count[nslot++] = 0;
		}
		count[k]++;
	}
	if (nslot == 0)
		return -1;
	for (k = 1; k < nslot; k++)
		if (count[k] > count[best])
			best = k;
	return face[best];
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median baseline of the glyphs in the dominant size: superscripts and
 * drop caps do not move it. */
static double
line_base(const struct page_text *pt, size_t a, size_t b, double size)
{
	static double *v;
	static size_t cap;
	double m;
	size_t i, n = 0;

	if (b - a > cap) {
		cap = 2 * (b - a);
		v = kst_xrealloc(v, cap * sizeof(*v));
	}
	for (i = a; i < b; i++) {
		const struct glyph *g = &pt->g[i];

		if (!printable(g))
			continue;
		if (g->face >= 0 && fabs(pt->faces[g->face].size - size) > 0.01)
			continue;
		v[n++] = g->base;
	}
	if (n == 0)
		for (i = a; i < b; i++)
			if (printable(&pt->g[i]))
				v[n++] = pt->g[i].base;
	if (n == 0)
		return 0;
	for (i = 1; i < n && v[i] == v[0]; i++)
		;
	if (i == n)
		return v[0];	/* the usual case: one word, or words in line */
	qsort(v, n, sizeof(*v), cmp_double);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return m;
}

struct linefmt {
	int face;		/* dominant face, -1 when none is known */
	double size;
	int style;
	const char *font;
	double base;
	double size_tol;
	double rise_tol;
};

/* Glyph properties compared against the line's. */
struct look {
	double size;
	double rise;
	int style;
	const char *font;
};

static void
glyph_look(const struct page_text *pt, const struct glyph *g,
    const struct linefmt *lf, struct look *lk)
{
	lk->rise = lf->base - g->base;
	if (g->face < 0) {
		lk->size = lf->size;
		lk->style = lf->style;
		lk->font = lf->font;
		return;
	}
	lk->size = pt->faces[g->face].size;
	lk->style = pt->faces[g->face].style;
	lk->font = pt->faces[g->face].font;
}

static int
look_differs(const struct look *a, const struct look *b,
    const struct linefmt *lf)
{
	return fabs(a->size - b->size) > lf->size_tol
	    || fabs(a->rise - b->rise) > lf->rise_tol
	    || a->style != b->style;
}

static void
emit_run(FILE *out, const struct line_text *lt, size_t first, size_t last,
    const struct look *lk, double rise)
{
	rec_begin(out, "run");
	long_field(out, (long)lt->start[first]);
	long_field(out, (long)lt->end[last]);
	num_field(out, lk->size);
	num_field(out, rise);
	rec_field(out, style_name[lk->style & 3]);
	rec_field(out, lk->font);
	rec_end(out);
}

/* Writes a run record for each maximal stretch of glyphs that look alike
 * and unlike the line. Spaces join a run only when both neighbours do. */
static void
emit_runs(FILE *out, const struct page_text *pt, size_t a, size_t b,
    const struct linefmt *lf, const struct line_text *lt)
{
	struct look line = { lf->size, 0, lf->style, lf->font }, first, cur;
	size_t i, j, last;
	double rise_sum;
	int nrise;

	for (i = a; i < b; i++) {
		if (!printable(&pt->g[i]))
			continue;
		glyph_look(pt, &pt->g[i], lf, &first);
		if (!look_differs(&first, &line, lf))
			continue;
		last = i;
		rise_sum = first.rise;
		nrise = 1;
		for (j = i + 1; j < b; j++) {
			if (!printable(&pt->g[j]))
				continue;
			glyph_look(pt, &pt->g[j], lf, &cur);
			if (look_differs(&cur, &first, lf))
				break;
			last = j;
			rise_sum += cur.rise;
			nrise++;
		}
		emit_run(out, lt, i - a, last - a, &first,
		    rise_sum / nrise);
		i = last;
	}
}

static void
line_format(const struct page_text *pt, size_t a, size_t b,
    struct linefmt *lf)
{
	lf->face = dominant_face(pt, a, b);
	if (lf->face >= 0) {
		lf->size = pt->faces[lf->face].size;
		lf->style = pt->faces[lf->face].style;
		lf->font = pt->faces[lf->face].font;
	} else {
		lf->size = 0;
		lf->style = 0;
		lf->font = "-";
	}
	lf->base = line_base(pt, a, b, lf->size);
	lf->size_tol = greater(0.25, 0.05 * lf->size);
	lf->rise_tol = greater(0.8, 0.12 * lf->size);
}

/* A line whose glyphs all sit on one point shows nothing: text drawn at
 * size zero, or with zero widths, to hide it. */
static int
zero_width(const struct page_text *pt, size_t a, size_t b)
{
	double lo = pt->g[a].a1, hi = pt->g[a].a2;
	size_t i;

	for (i = a; i < b; i++) {
		if (!printable(&pt->g[i]))
			continue;
		lo = lesser(lo, pt->g[i].a1);
		hi = greater(hi, pt->g[i].a2);
	}
	return hi - lo < 0.01;
}

/* Writes glyphs [a, b) as one line record plus its runs; nothing when the
 * stretch holds no printable glyph or has no width. Returns the printable
 * glyphs written. */
static size_t
emit_line(FILE *out, int pageno, struct page_text *pt, size_t a,
    size_t b, struct line_text *lt)
{
	double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
	struct linefmt lf;
	enum dir d;
	size_t i, n = 0;

	while (a < b && !printable(&pt->g[a]))
		a++;
	while (b > a && !printable(&pt->g[b - 1]))
		b--;
	for (i = a; i < b; i++) {
		const struct glyph *g = &pt->g[i];

		if (!printable(g))
			continue;
		if (n++ == 0) {
			x0 = g->x1; y0 = g->y1; x1 = g->x2; y1 = g->y2;
			continue;
		}
		x0 = lesser(x0, g->x1); y0 = lesser(y0, g->y1);
		x1 = greater(x1, g->x2); y1 = greater(y1, g->y2);
	}
	if (n == 0)
		return 0;
	d = n > 1 ? direction(&pt->g[a], &pt->g[b - 1]) : pt->dir;
	for (i = a; i < b; i++)
		to_frame(&pt->g[i], d);
	if (zero_width(pt, a, b))
		return 0;
	line_format(pt, a, b, &lf);
	line_build(lt, pt->g, a, b, lf.size);
	rec_begin(out, "line");
	long_field(out, pageno);
	num_field(out, x0);
	num_field(out, y0);
	num_field(out, x1);
	num_field(out, y1);
	num_field(out, from_frame(lf.base, d));
	num_field(out, lf.size);
	rec_field(out, style_name[lf.style & 3]);
	rec_field(out, lf.font);
	rec_fieldn(out, lt->text.s, lt->text.len);
	rec_end(out);
	emit_runs(out, pt, a, b, &lf, lt);
	return n;
}

/* True when glyph j starts a new column: far right of glyph i on the same
 * poppler line, or jumping back left past it. */
static int
column_gap(const struct page_text *pt, size_t i, size_t j)
{
	const struct glyph *p = &pt->g[i], *q = &pt->g[j];
	double size = p->face >= 0 ? pt->faces[p->face].size : 0;
	double gap = greater(GAP_MIN, GAP_EMS * size);
	double p1, p2, q1, q2;

	along(p, pt->dir, &p1, &p2);
	along(q, pt->dir, &q1, &q2);
	return q1 - p2 > gap || p1 - q2 > gap;
}

/* The direction most neighbouring glyphs on the page follow. */
static enum dir
page_direction(const struct page_text *pt)
{
	size_t votes[4] = { 0, 0, 0, 0 }, i, prev = SIZE_MAX;
	int d, best = DIR_RIGHT;

	for (i = 0; i < pt->n; i++) {
		if (pt->g[i].c == '\n')
			prev = SIZE_MAX;
		if (!printable(&pt->g[i]))
			continue;
		if (prev != SIZE_MAX)
			votes[direction(&pt->g[prev], &pt->g[i])]++;
		prev = i;
	}
	for (d = 1; d < 4; d++)
		if (votes[d] > votes[best])
			best = d;
	return (enum dir)best;
}

/* Splits the glyphs of a page at poppler's newlines and at column gaps. */
static size_t
emit_page_lines(FILE *out, int pageno, struct page_text *pt,
    struct line_text *lt)
{
	size_t a = 0, i, prev = SIZE_MAX, n = 0;

	for (i = 0; i < pt->n; i++)
		pt->g[i].ink = shows_ink(pt->g[i].c);
	pt->dir = page_direction(pt);
	for (i = 0; i < pt->n; i++) {
		if (pt->g[i].c == '\n') {
			n += emit_line(out, pageno, pt, a, i, lt);
			a = i + 1;
			prev = SIZE_MAX;
			continue;
		}
		if (!printable(&pt->g[i]))
			continue;
		if (prev != SIZE_MAX && column_gap(pt, prev, i)) {
			n += emit_line(out, pageno, pt, a, i, lt);
			a = i;
		}
		prev = i;
	}
	n += emit_line(out, pageno, pt, a, pt->n, lt);
	return n;
}

static void
emit_page(FILE *out, PopplerDocument *doc, int index, struct totals *t,
    struct line_text *lt)
{
	PopplerPage *page = poppler_document_get_page(doc, index);
	struct page_text pt;
	double w = 0, h = 0;

	if (page == NULL) {
		rec_begin(out, "page");
		long_field(out, index + 1);
		num_field(out, 0);
		num_field(out, 0);
		rec_end(out);
		return;
	}
	poppler_page_get_size(page, &w, &h);
	rec_begin(out, "page");
	long_field(out, index + 1);
	num_field(out, finite_or_zero(w));
	num_field(out, finite_or_zero(h));
	rec_end(out);
	if (!load_page(page, &pt))
		t->misaligned++;
	t->glyphs += emit_page_lines(out, index + 1, &pt, lt);
	free_page(&pt);
	g_object_unref(page);
}

/* ---- document ---- */

static void
emit_source(FILE *out, const struct input *in, int pages)
{
	char *sum;

	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)in->data, in->len);
	rec_begin(out, "source");
	long_field(out, (long)in->len);
	long_field(out, pages);
	rec_field(out, sum);
	rec_field(out, in->path);
	rec_end(out);
	g_free(sum);
}

static int
has_eof_marker(const struct input *in)
{
	size_t tail = in->len < EOF_WINDOW ? in->len : EOF_WINDOW, i;

	for (i = in->len - tail; i + 5 <= in->len; i++)
		if (memcmp(in->data + i, "%%EOF", 5) == 0)
			return 1;
	return 0;
}

static void
emit_warn(FILE *out, const char *code, const char *msg)
{
	rec_begin(out, "warn");
	rec_field(out, code);
	rec_field(out, msg);
	rec_end(out);
}

/* A file poppler could read in spite of damage converts, but says so. */
static void
emit_warnings(FILE *out, const struct input *in, const struct totals *t)
{
	char msg[256];

	if (!has_eof_marker(in))
		emit_warn(out, "extract-truncated", "no %%EOF at the end of the "
		    "file: it may be truncated and text may be missing");
	if (poppler_said.errors) {
		snprintf(msg, sizeof(msg), "poppler reported %lu error%s reading "
		    "the file; the first: %s", poppler_said.errors,
		    poppler_said.errors == 1 ? "" : "s", poppler_said.first);
		emit_warn(out, "extract-damaged", msg);
	}
	if (t->misaligned)
		emit_warn(out, "extract-misaligned", "poppler's text and glyph "
		    "boxes disagreed on some pages; text there may be cut short");
}

int
main(int argc, char **argv)
{
	struct options o;
	struct input in;
	struct totals t = { 0, 0 };
	struct line_text lt = { BUF_INIT, NULL, NULL, 0 };
	PopplerDocument *doc;
	char *obuf = NULL;
	size_t olen = 0;
	FILE *out;
	int pages, i;

	kst_setprog(argv[0]);
	parse_args(argc, argv, &o);
	silence_poppler();
	load_input(&o, &in);
	if (in.len == 0)
		kst_die(KST_EEMPTY, "%s: empty file", in.name);
	if (!has_pdf_magic(&in))
		kst_die(KST_ENOTPDF, "%s: not a PDF (no %%PDF- header)", in.name);
	doc = open_document(&in);
	pages = poppler_document_get_n_pages(doc);
	if (pages <= 0)
		kst_die(KST_EDAMAGED, "%s: damaged or truncated PDF: no page "
		    "could be read", in.name);
	if (pages > o.max_pages)
		kst_die(KST_ELIMIT, "%s: %d pages, more than --max-pages %ld",
		    in.name, pages, o.max_pages);
	out = open_memstream(&obuf, &olen);
	if (out == NULL)
		kst_die(KST_EINTERNAL, "open_memstream: %s", strerror(errno));
	stream_header(out);
	emit_source(out, &in, pages);
	for (i = 0; i < pages; i++)
		emit_page(out, doc, i, &t, &lt);
	emit_warnings(out, &in, &t);
	if (fclose(out) != 0)
		kst_die(KST_EINTERNAL, "memory stream: %s", strerror(errno));
	if (t.glyphs == 0 && (poppler_said.errors || !has_eof_marker(&in)))
		kst_die(KST_EDAMAGED, "%s: damaged or truncated PDF: no text "
		    "could be read%s%s", in.name, poppler_said.errors ? "; " : "",
		    poppler_said.errors ? poppler_said.last : "");
	if (t.glyphs == 0)
		kst_die(KST_ENOTEXT, "%s: no text layer on any page: a scan "
		    "without text; it needs OCR first", in.name);
	fwrite(obuf, 1, olen, stdout);
	kst_close_stdout();
	free(obuf);
	buf_free(&lt.text);
	free(lt.start);
	free(lt.end);
	g_object_unref(doc);
	free(in.data);
	return KST_OK;
}
