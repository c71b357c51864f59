/* rules.h - regex rule files (docs/rules.md).
 *
 * A rule file is data a user can read and extend without recompiling:
 *
 *	# comment
 *	rule NAME KIND
 *		KEY   TEMPLATE
 *		match PCRE2-PATTERN
 *
 * Every rule has a unique NAME (reported as the RULE of what it makes), a
 * KIND (what it makes: a tag kind, a meta key), templates that expand named
 * capture groups ("${year}-${month|month}-${day|pad2}"), and one pattern,
 * compiled once at load time (UTF, UCP; JIT when available and the subject
 * is long enough to pay for it). */
#ifndef KST_RULES_H
#define KST_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include "buf.h"

struct rule_tmpl;		/* a parsed template: literal text and group references */

struct rule_attr {
	char *key;
	char *text;		/* the template as written */
	struct rule_tmpl *tmpl;
};

struct rule {
	char *name;
	char *kind;
	struct rule_attr *attr;
	size_t nattr;
	char *pattern;
	void *re;		/* pcre2_code * */
	int jit;		/* JIT-compiled (or tried): see RULES_JIT_MIN */
	size_t scanned;		/* subject bytes scanned so far, for the JIT */
	char **need;		/* the "need" words, NULL-ended, or NULL: see */
	size_t *needlen;	/* rule_may_match; and their lengths */
	const char *file;	/* owned by the ruleset */
	unsigned long line;
};

struct ruleset {
	struct rule *rule;
	size_t n, cap;
	char **file;		/* names of loaded files, for messages */
	size_t nfile;
	void *md;		/* pcre2_match_data *, sized for the largest rule */
	void *mctx;		/* pcre2_match_context *: limits against runaway patterns */
	unsigned maxgroups;
	const char *subject;	/* of the last successful match */
	const char *checked;	/* subject whose bytes [checked_from, */
	size_t checked_from;	/* checked_len) were last found */
	size_t checked_len;	/* valid UTF-8: checked once per scan */
};

#define RULES_MAXFILE (4u << 20)	/* a rule file larger than this is an error */
/* A rule is JIT-compiled once it has scanned this many subject bytes in all
 * (many short sentences count as much as one long block). JIT-compiling all
 * of meta.rules costs more (2-4 ms) than interpreting it over a one-page
 * document. Since need words keep most rules off most texts, 16 KiB is the
 * fastest of 4, 8, 16, 32 and 64 KiB and never: summed over the corpus and
 * fixture documents, kst-meta + kst-refs + kst-commit 35.9 ms at 4 KiB,
 * 34.3 ms at 16 KiB (perf stat, 20 runs each, three rounds). */
#define RULES_JIT_MIN (16u << 10)

void rules_init(struct ruleset *rs);
void rules_free(struct ruleset *rs);

/* Parses a rule file held in memory; NAME is used in messages. Returns 0, or
 * -1 with "NAME:LINE: problem" in err. On error the rules of this buffer are
 * not added. Never crashes on hostile input: this is the fuzzing entry. */
int rules_parse(struct ruleset *rs, const char *name, const char *text,
    size_t len, char *err, size_t errlen);
/* Reads and parses PATH; dies with KST_ERULES on any problem. */
void rules_load(struct ruleset *rs, const char *path);
/* Finds FILENAME in the rule directories and loads it (dies if not found):
 * $KST_RULES_DIR, then <directory of the running program>/rules, then the
 * compile-time KST_RULES_DIR. */
void rules_load_default(struct ruleset *rs, const char *filename);
/* The path rules_load_default would use, or NULL; out receives it. */
const char *rules_find(const char *filename, struct buf *out);

/* The attribute of rule r called key, or NULL. */
const struct rule_attr *rule_attr(const struct rule *r, const char *key);

/* Finds the next match of r in s[0..len) at or after *offset. Returns 1 and
 * sets *start, *end and *offset (past the match; past one character for an
 * empty match), 0 when there is none, -1 when a resource limit was hit (the
 * pattern backtracks too much: treat as no match and report it) or s is not
 * valid UTF-8 (see utf8_repair). s[*offset..len) is checked for UTF-8 once
 * per scan (when s or len changed, or *offset moved back), not on every
 * call: do not change the text between the calls of one scan. */
int rule_next(struct ruleset *rs, struct rule *r, const char *s,
    size_t len, size_t *offset, size_t *start, size_t *end);
/* Replaces every byte of b that is not part of valid UTF-8 (or is NUL) with
 * U+FFFD, so that rules can run over text from an untrusted stream. */
void utf8_repair(struct buf *b);

/* A rule's "need" key lists words (ASCII without capitals, separated by
 * blanks) one of which every text the pattern matches holds, in any case.
 * Most rules match few texts, and a pattern that fails still costs a scan;
 * need words let a program skip a rule. rule_need_text prepares a text
 * once: ASCII-lower-cased, with a bitmap of the byte pairs in it, so that
 * most absent words are ruled out without a search. The text is left open
 * to every rule (all = 1) when it holds the long s or the Kelvin sign,
 * which (?i) folds to s and k, or when rule_next would refuse it as
 * invalid UTF-8 (so that its warnings stay). rule_may_match is 1 when r
 * has no need words or one of them occurs in t. Skipping a rule is only
 * sound for a match that lies wholly in the prepared text. */
struct need_text {
	struct buf lower;
	int all;
	uint64_t pairs[64];	/* bit (a * 31 + b) % 4096 for each pair ab */
};
#define NEED_TEXT_INIT { BUF_INIT, 1, { 0 } }
void rule_need_text(const char *s, size_t len, struct need_text *t);
int rule_may_match(const struct rule *r, const struct need_text *t);
void need_text_free(struct need_text *t);

/* Expands template a against the last match of rule_next (same subject).
 * Appends to out. Returns 0, or -1 when a filter rejected its input (for
 * example an unknown month name): the caller should skip this match. */
int rule_expand(const struct ruleset *rs, const struct rule_attr *a,
    struct buf *out);

/* The command line every rule-driven stage shares: --help or -h calls
 * usage(KST_OK), --version prints "PROG VERSION" and exits, -r FILE (any
 * number) adds a user's rules, tried before default_rules, and at most one
 * input (a file, or "-" or none for stdin); anything else calls
 * usage(KST_EUSAGE). Initialises and loads rs, opens the input, and sets
 * *name to the input's name for messages ("<stdin>" for stdin). */
FILE *rules_stage_open(int argc, char **argv, const char *prog,
    const char *default_rules, void (*usage)(int status),
    struct ruleset *rs, const char **name);

#endif
