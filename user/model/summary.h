/*
 * What the profile's counters say, in words: the one line every header shows
 * ("11,163 samples · none lost · 9% with partial stacks · 62% with unnamed
 * frames") and the list of every counter with its meaning behind it (the text
 * report's --counters, the HTML page's details, the live view's i key). The
 * grouping of the counters into those words lives here only, so that every
 * view says the same thing.
 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"
#include "base/util.h"

/* What a counter adds to in the summary line. */
enum summary_group {
	SG_SAMPLED,	/* what the sampler saw: no loss, shown for the record */
	SG_LOST,	/* samples that never reached the profile: "N lost" */
	SG_PARTIAL,	/* samples kept with part of their stack: "N% with partial stacks" */
	SG_UNNAMED,	/* frames without a name: "N% with unnamed frames" */
	SG_HOW,		/* how stacks were walked: no loss by itself */
	SG_OTHER,	/* processes, events or detail missed: a part each when not zero */
	SG_NR,
};

/* How much a part matters: a narrow line drops the lowest first. */
enum summary_prio {
	SP_HINT = 10,	/* "i: counters" */
	SP_FREQ = 20,
	SP_CPU = 30,
	SP_OTHER = 50,
	SP_UNNAMED = 60,
	SP_PARTIAL = 70,
	SP_ELAPSED = 75,
	SP_LOST = 90,
	SP_SAMPLES = 100,
};

#define SUMMARY_MAX_PARTS 24
#define SUMMARY_PART_LEN 64

/* Parts of one line, in the order shown. Each is whole: plain words that hold
 * no separator, dropped whole when the line is too narrow. */
struct summary {
	struct {
		char text[SUMMARY_PART_LEN];
		int prio;	/* enum summary_prio */
	} parts[SUMMARY_MAX_PARTS];
	size_t nr;
};

/* Remembers which stacks hold an unnamed frame (stacks never change once
 * interned), so that a view redrawn every second only looks at new stacks.
 * Zero-initialise; one memo per profile; summary_memo_release() frees it. */
struct summary_memo {
	uint8_t *unnamed;	/* per stack: 1 holds an [unknown] frame */
	size_t nr_stacks;	/* stacks looked at so far */
};
void summary_memo_release(struct summary_memo *m);

/* Appends a part (cut to SUMMARY_PART_LEN - 1 bytes; past SUMMARY_MAX_PARTS
 * it is left out). */
void summary_add(struct summary *s, int prio, const char *fmt, ...) PRINTF(3, 4);

/* Appends the parts that say what p holds and what it lost: the samples (with
 * rate per second beside them when not 0), the lost samples, the share with
 * partial stacks, the share with unnamed frames, and one part per other loss
 * that is not zero. memo may be NULL (then the stacks are looked at afresh). */
void summary_of_profile(struct summary *s, const struct profile *p, uint64_t rate,
			struct summary_memo *memo);

/* Appends the parts joined by sep to sb. With width > 0, leaves out whole
 * parts, lowest priority first (the later one among equals), until the line
 * fits in width columns (counted as UTF-8 characters). Returns its columns. */
size_t summary_join(const struct summary *s, const char *sep, size_t width, struct strbuf *sb);

/* Samples of p whose stack holds a frame without a name. */
uint64_t summary_unnamed_samples(const struct profile *p, struct summary_memo *memo);

/* Every counter of p, one line each ("  name  value  meaning"), under a
 * heading per group that says which part of the summary it adds to. */
void summary_details(const struct profile *p, struct strbuf *sb);
/* What a view calls the list, above it or on what opens it. */
#define SUMMARY_DETAILS_TITLE "Every counter (what the line above sums up)"
/* Where summary_details() starts the meanings, for a view that wraps them. */
#define SUMMARY_DETAILS_INDENT 43
/* How many lines summary_details() writes. */
#define SUMMARY_DETAILS_LINES (SG_NR + PC_NR)

/* What counter c means, in a few words; its group. */
const char *summary_meaning(int c);
enum summary_group summary_group_of(int c);

#endif
