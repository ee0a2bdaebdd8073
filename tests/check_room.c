/*
 * check_room.c - membership, nicknames, notices and, above all, the one
 * total order that every member sees.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "room.h"
#include "check_run.h"

#define MAX_LINES	40000

struct fake {
	struct room_member	 m;
	pthread_mutex_t		 mu;
	struct msg		**lines;
	size_t			 n;
};

static void
fake_deliver(struct room_member *to, struct msg *const *msgs, size_t n,
    void *ctx)
{
	struct fake	*f = (struct fake *)(void *)to;
	size_t		 i;

	ck_assert_ptr_eq(ctx, (void *)0x1);	/* the caller's ctx arrives */
	pthread_mutex_lock(&f->mu);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(f->n, MAX_LINES);
		f->lines[f->n++] = msgs[i];	/* the reference is ours */
	}
	pthread_mutex_unlock(&f->mu);
}

#define CTX	((void *)0x1)
#define SEED	0x5eedULL	/* of the nickname hash; any will do */

static struct fake *
fakes_new(size_t n)
{
	struct fake	*v = calloc(n, sizeof(*v));
	size_t		 i;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		pthread_mutex_init(&v[i].mu, NULL);
		v[i].lines = calloc(MAX_LINES, sizeof(*v[i].lines));
		ck_assert_ptr_nonnull(v[i].lines);
	}
	return v;
}

static void
fakes_free(struct fake *v, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i].n; j++)
			msg_unref(v[i].lines[j]);
		free(v[i].lines);
		pthread_mutex_destroy(&v[i].mu);
	}
	free(v);
}

/* The i-th line f received, as a C string without CRLF. */
static const char *
line_at(struct fake *f, size_t i)
{
	static char	 buf[8192];
	struct msg	*m;

	ck_assert_uint_lt(i, f->n);
	m = f->lines[i];
	ck_assert_uint_ge(m->len, 2);
	ck_assert(m->data[m->len - 2] == '\r' && m->data[m->len - 1] == '\n');
	memcpy(buf, m->data, m->len - 2);
	buf[m->len - 2] = '\0';
	return buf;
}

static const char *
last_line(struct fake *f)
{
	return line_at(f, f->n - 1);
}

START_TEST(test_join_names_and_announces)
{
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(3);

	ck_assert_int_eq(room_join(r, &f[0].m, NULL, 0, CTX), 0);
	ck_assert_str_eq(f[0].m.nick, "guest1");
	ck_assert_str_eq(line_at(&f[0], 0), "-- welcome to chatd, you are "
	    "guest1 (1 online; /help lists the commands)");
	ck_assert_int_eq(room_join(r, &f[1].m, NULL, 0, CTX), 0);
	ck_assert_str_eq(f[1].m.nick, "guest2");
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	ck_assert_uint_eq(f[1].n, 1);	/* no join notice about itself */
	ck_assert_uint_eq(room_count(r), 2);

	/* guestN skips names that are taken, whatever their case. */
	ck_assert_int_eq(room_nick(r, &f[0].m, "GUEST3", 6, CTX), 0);
	ck_assert_int_eq(room_join(r, &f[2].m, NULL, 0, CTX), 0);
	ck_assert_str_eq(f[2].m.nick, "guest4");

	room_leave(r, &f[2].m, "gone fishing", 12, CTX);
	ck_assert_str_eq(last_line(&f[0]), "-- guest4 left (gone fishing)");
	ck_assert_str_eq(last_line(&f[1]), "-- guest4 left (gone fishing)");
	room_leave(r, &f[1].m, NULL, 0, CTX);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 left");
	ck_assert_uint_eq(room_count(r), 1);
	/* Leaving twice is harmless. */
	room_leave(r, &f[1].m, NULL, 0, CTX);
	ck_assert_uint_eq(room_count(r), 1);

	room_leave(r, &f[0].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, 3);
}
END_TEST

/* The MOTD comes right after the welcome, before any room line. */
START_TEST(test_greeting)
{
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(2);
	struct msg	*motd[2];

	motd[0] = msg_format(REPLY_NOTICE, NULL, 0, "rules: be nice", 14);
	motd[1] = msg_format(REPLY_NOTICE, NULL, 0, "\x1b[2Jno escapes", 14);
	ck_assert_int_eq(room_join(r, &f[0].m, NULL, 0, CTX), 0);
	ck_assert_int_eq(room_join(r, &f[1].m, motd, 2, CTX), 0);
	ck_assert_uint_eq(f[1].n, 3);
	ck_assert(strncmp(line_at(&f[1], 0), "-- welcome", 10) == 0);
	ck_assert_str_eq(line_at(&f[1], 1), "-- rules: be nice");
	ck_assert_str_eq(line_at(&f[1], 2), "-- \xef\xbf\xbd[2Jno escapes");
	/* The others get the join notice, not the greeting. */
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	ck_assert_uint_eq(f[0].n, 2);
	msg_unref(motd[0]);
	msg_unref(motd[1]);
	room_leave(r, &f[0].m, NULL, 0, CTX);
	room_leave(r, &f[1].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, 2);
}
END_TEST

START_TEST(test_announce_max)
{
	struct room	*r = room_new(fake_deliver, 2, SEED);
	struct fake	*f = fakes_new(4);
	size_t		 before;
	int		 i;

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX), 0);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	before = f[0].n;
	ck_assert_int_eq(room_join(r, &f[2].m, NULL, 0, CTX), 0);
	ck_assert_uint_eq(f[0].n, before);	/* 3 > 2: not announced */
	ck_assert_uint_eq(f[2].n, 1);		/* but welcomed */

	/* Above the limit a nick change is confirmed to its owner only. */
	ck_assert_int_eq(room_nick(r, &f[2].m, "zed", 3, CTX), 0);
	ck_assert_str_eq(last_line(&f[2]), "-- guest3 is now known as zed");
	ck_assert_uint_eq(f[0].n, before);

	/* Back at the limit, leaves are announced again. */
	room_leave(r, &f[2].m, NULL, 0, CTX);
	ck_assert_str_eq(last_line(&f[0]), "-- zed left");
	/* A reload can lower the limit: now nobody hears of joins. */
	room_set_announce_max(r, 0);
	before = f[0].n;
	ck_assert_int_eq(room_join(r, &f[3].m, NULL, 0, CTX), 0);
	ck_assert_uint_eq(f[0].n, before);
	room_leave(r, &f[3].m, NULL, 0, CTX);
	room_leave(r, &f[0].m, NULL, 0, CTX);
	room_leave(r, &f[1].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, 4);
}
END_TEST

START_TEST(test_nick_rules)
{
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(2);

	room_join(r, &f[0].m, NULL, 0, CTX);
	room_join(r, &f[1].m, NULL, 0, CTX);
	ck_assert_int_eq(room_nick(r, &f[0].m, "Alice", 5, CTX), 0);
	ck_assert_str_eq(last_line(&f[1]), "-- guest1 is now known as Alice");
	ck_assert_str_eq(last_line(&f[0]), "-- guest1 is now known as Alice");

	ck_assert_int_eq(room_nick(r, &f[1].m, "aLICE", 5, CTX), 0);
	ck_assert_str_eq(last_line(&f[1]), "!! nickname aLICE is taken");
	ck_assert_str_eq(f[1].m.nick, "guest2");

	/* A client may change the case of its own nickname. */
	ck_assert_int_eq(room_nick(r, &f[0].m, "ALICE", 5, CTX), 0);
	ck_assert_str_eq(f[0].m.nick, "ALICE");

	ck_assert_int_eq(room_nick(r, &f[1].m, "9lives", 6, CTX), 0);
	ck_assert(strncmp(last_line(&f[1]), "!! invalid nickname: ", 21) == 0);
	ck_assert_str_eq(f[1].m.nick, "guest2");

	/* The old name is free again, the new one found case-blind. */
	ck_assert_int_eq(room_nick(r, &f[1].m, "guest1", 6, CTX), 0);
	ck_assert_str_eq(f[1].m.nick, "guest1");
	ck_assert_int_eq(room_private(r, &f[1].m, "alice", 5, "hi", 2, CTX),
	    0);
	ck_assert_str_eq(last_line(&f[0]), "*guest1* hi");
	ck_assert_str_eq(last_line(&f[1]), "-> *ALICE* hi");
	ck_assert_int_eq(room_private(r, &f[1].m, "bob", 3, "hi", 2, CTX), 0);
	ck_assert_str_eq(last_line(&f[1]), "!! no such nick: bob");

	room_leave(r, &f[0].m, NULL, 0, CTX);
	room_leave(r, &f[1].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, 2);
}
END_TEST

/*
 * Whatever the seed, and as the table grows, a nickname is found under
 * any ASCII case: the hash stays consistent with nick_equal().
 */
START_TEST(test_nick_any_seed)
{
	static const uint64_t seeds[] = { 0, 1, 0x9e3779b97f4a7c15ULL,
	    UINT64_MAX };
	enum { N = 150 };
	struct room	*r;
	struct fake	*f;
	char		 name[16];
	size_t		 i, k;
	int		 n;

	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		r = room_new(fake_deliver, 0, seeds[k]);
		f = fakes_new(N);
		for (i = 0; i < N; i++) {
			ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX),
			    0);
			n = snprintf(name, sizeof(name), "Nick%zu", i);
			ck_assert_int_eq(room_nick(r, &f[i].m, name,
			    (size_t)n, CTX), 0);
			ck_assert_str_eq(f[i].m.nick, name);
		}
		for (i = 1; i < N; i++) {
			n = snprintf(name, sizeof(name), "NICK%zu", i);
			ck_assert_int_eq(room_nick(r, &f[0].m, name,
			    (size_t)n, CTX), 0);
			ck_assert_str_eq(f[0].m.nick, "Nick0");
			ck_assert(strstr(last_line(&f[0]), " is taken") !=
			    NULL);
			n = snprintf(name, sizeof(name), "nick%zu", i);
			ck_assert_int_eq(room_private(r, &f[0].m, name,
			    (size_t)n, "hi", 2, CTX), 0);
			ck_assert_str_eq(last_line(&f[i]), "*Nick0* hi");
		}
		for (i = 0; i < N; i++)
			room_leave(r, &f[i].m, NULL, 0, CTX);
		room_free(r);
		fakes_free(f, N);
	}
}
END_TEST

START_TEST(test_who_lines)
{
	enum { N = 150 };
	struct room	*r = room_new(fake_deliver, 0, SEED);
	struct fake	*f = fakes_new(N);
	size_t		 i, first, seen = 0;
	const char	*l;
	char		 word[64];
	int		 off, pos;

	for (i = 0; i < N; i++)
		ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX), 0);
	first = f[0].n;
	ck_assert_int_gt(room_who(r, &f[0].m, 1 << 20, CTX), 0);
	ck_assert_uint_gt(f[0].n - first, 1);	/* 150 names need several */
	ck_assert(strncmp(line_at(&f[0], first), "-- 150 online: guest", 20)
	    == 0);
	for (i = first; i < f[0].n; i++) {
		l = line_at(&f[0], i);
		ck_assert_uint_le(strlen(l), 440);
		ck_assert(strncmp(l, "-- ", 3) == 0);
		pos = 3;
		if (i == first)
			pos = 3 + (int)strlen("150 online:");
		while (sscanf(l + pos, "%63s%n", word, &off) == 1) {
			ck_assert(strncmp(word, "guest", 5) == 0);
			seen++;
			pos += off;
		}
	}
	ck_assert_uint_eq(seen, N);
	for (i = 0; i < N; i++)
		room_leave(r, &f[i].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, N);
}
END_TEST

/* A bounded listing names what fits and counts the rest: nobody is lost. */
START_TEST(test_who_bounded)
{
	enum { N = 150 };
	struct room	*r = room_new(fake_deliver, 0, SEED);
	struct fake	*f = fakes_new(N);
	size_t		 i, first, seen = 0, more = 0, bytes = 0, names = 0;
	const char	*l;
	char		 word[64];
	int		 off, pos;
	long		 sent;

	for (i = 0; i < N; i++)
		ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX), 0);
	first = f[0].n;
	sent = room_who(r, &f[0].m, 200, CTX);
	ck_assert_int_gt(sent, 0);
	ck_assert(strncmp(line_at(&f[0], first), "-- 150 online: guest", 20)
	    == 0);
	for (i = first; i < f[0].n; i++) {
		l = line_at(&f[0], i);
		bytes += strlen(l) + 2;
		if (sscanf(l, "-- and %zu more", &more) == 1) {
			ck_assert_uint_eq(i, f[0].n - 1);	/* the last */
			break;
		}
		pos = 3;
		if (i == first)
			pos = 3 + (int)strlen("150 online:");
		while (sscanf(l + pos, "%63s%n", word, &off) == 1) {
			ck_assert(strncmp(word, "guest", 5) == 0);
			seen++;
			names += strlen(word) + 1;
			pos += off;
		}
	}
	ck_assert_uint_gt(seen, 0);
	ck_assert_uint_lt(seen, N);
	ck_assert_uint_eq(seen + more, N);
	/* What it says it queued is what came, and the names fit the bound. */
	ck_assert_uint_eq((size_t)sent, bytes);
	ck_assert_uint_le(names, 200);
	for (i = 0; i < N; i++)
		room_leave(r, &f[i].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, N);
}
END_TEST

struct sender {
	struct room	*r;
	struct fake	*f;
	int		 id;
	int		 count;
};

static void *
sender_main(void *arg)
{
	struct sender	*s = arg;
	char		 text[64];
	int		 i, n;

	for (i = 0; i < s->count; i++) {
		n = snprintf(text, sizeof(text), "%d %d", s->id, i);
		ck_assert_int_eq(room_say(s->r, &s->f->m, REPLY_CHAT, text,
		    (size_t)n, CTX), 0);
	}
	return NULL;
}

/*
 * Five threads talk at once into a room of twelve: every member sees the
 * same sequence of the very same messages, and each sender's lines keep
 * their order.
 */
START_TEST(test_total_order)
{
	enum { MEMBERS = 12, SENDERS = 5, PER = 3000 };
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(MEMBERS);
	struct sender	 s[SENDERS];
	pthread_t	 t[SENDERS];
	size_t		 i, j, start[MEMBERS];
	int		 next[SENDERS], id, seq;

	for (i = 0; i < MEMBERS; i++)
		ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX), 0);
	for (i = 0; i < MEMBERS; i++)
		start[i] = f[i].n;
	for (i = 0; i < SENDERS; i++) {
		s[i] = (struct sender){ r, &f[i], (int)i, PER };
		ck_assert_int_eq(pthread_create(&t[i], NULL, sender_main,
		    &s[i]), 0);
	}
	for (i = 0; i < SENDERS; i++)
		pthread_join(t[i], NULL);

	for (i = 0; i < MEMBERS; i++)
		ck_assert_uint_eq(f[i].n - start[i], SENDERS * PER);
	for (j = 0; j < SENDERS * PER; j++)
		for (i = 1; i < MEMBERS; i++)
			ck_assert_ptr_eq(f[i].lines[start[i] + j],
			    f[0].lines[start[0] + j]);
	memset(next, 0, sizeof(next));
	for (j = 0; j < SENDERS * PER; j++) {
		const char *l = line_at(&f[0], start[0] + j);
		char nick[40];

		ck_assert_int_eq(sscanf(l, "<%39[^>]> %d %d", nick, &id, &seq),
		    3);
		ck_assert_str_eq(nick, f[id].m.nick);
		ck_assert_int_eq(seq, next[id]);
		next[id]++;
	}
	for (i = 0; i < SENDERS; i++)
		ck_assert_int_eq(next[i], PER);

	for (i = 0; i < MEMBERS; i++)
		room_leave(r, &f[i].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, MEMBERS);
}
END_TEST

struct batcher {
	struct room	*r;
	struct fake	*f;
	int		 id;
};

static void *
batcher_main(void *arg)
{
	struct batcher	*b = arg;
	struct msg	*batch[4];
	char		 text[64];
	int		 i, j, n;

	for (i = 0; i < 500; i++) {
		for (j = 0; j < 4; j++) {
			n = snprintf(text, sizeof(text), "%d %d", b->id,
			    i * 4 + j);
			batch[j] = msg_format(REPLY_CHAT, b->f->m.nick,
			    b->f->m.nick_len, text, (size_t)n);
			ck_assert_ptr_nonnull(batch[j]);
		}
		room_say_many(b->r, batch, 4, CTX);
		for (j = 0; j < 4; j++)
			msg_unref(batch[j]);
	}
	return NULL;
}

/* A batch reaches every member whole, in one place of the one order. */
START_TEST(test_batches_stay_together)
{
	enum { MEMBERS = 6, THREADS = 3 };
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(MEMBERS);
	struct batcher	 b[THREADS];
	pthread_t	 t[THREADS];
	size_t		 i, j, start[MEMBERS];
	int		 id, seq, first_id, first_seq;
	char		 nick[40];

	for (i = 0; i < MEMBERS; i++)
		ck_assert_int_eq(room_join(r, &f[i].m, NULL, 0, CTX), 0);
	for (i = 0; i < MEMBERS; i++)
		start[i] = f[i].n;
	for (i = 0; i < THREADS; i++) {
		b[i] = (struct batcher){ r, &f[i], (int)i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, batcher_main,
		    &b[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < MEMBERS; i++)
		ck_assert_uint_eq(f[i].n - start[i], THREADS * 2000);
	for (j = 0; j < THREADS * 2000; j++)
		for (i = 1; i < MEMBERS; i++)
			ck_assert_ptr_eq(f[i].lines[start[i] + j],
			    f[0].lines[start[0] + j]);
	/* Every run of four is one sender's four consecutive lines. */
	for (j = 0; j < THREADS * 2000; j += 4) {
		ck_assert_int_eq(sscanf(line_at(&f[0], start[0] + j),
		    "<%39[^>]> %d %d", nick, &first_id, &first_seq), 3);
		ck_assert_int_eq(first_seq % 4, 0);
		for (i = 1; i < 4; i++) {
			ck_assert_int_eq(sscanf(line_at(&f[0], start[0] + j + i),
			    "<%39[^>]> %d %d", nick, &id, &seq), 3);
			ck_assert_int_eq(id, first_id);
			ck_assert_int_eq(seq, first_seq + (int)i);
		}
	}
	for (i = 0; i < MEMBERS; i++)
		room_leave(r, &f[i].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, MEMBERS);
}
END_TEST

START_TEST(test_shared_not_copied)
{
	struct room	*r = room_new(fake_deliver, 200, SEED);
	struct fake	*f = fakes_new(3);
	size_t		 i;

	for (i = 0; i < 3; i++)
		room_join(r, &f[i].m, NULL, 0, CTX);
	ck_assert_int_eq(room_say(r, &f[0].m, REPLY_ACTION, "waves", 5, CTX),
	    0);
	ck_assert_ptr_eq(f[0].lines[f[0].n - 1], f[1].lines[f[1].n - 1]);
	ck_assert_ptr_eq(f[1].lines[f[1].n - 1], f[2].lines[f[2].n - 1]);
	/* Three members hold it, plus nobody else. */
	ck_assert_uint_eq(atomic_load(&f[2].lines[f[2].n - 1]->refs), 3);
	ck_assert_str_eq(last_line(&f[2]), "* guest1 waves");
	ck_assert_int_eq(room_notice_all(r, "server shutting down", CTX), 0);
	ck_assert_str_eq(last_line(&f[1]), "-- server shutting down");
	for (i = 0; i < 3; i++)
		room_leave(r, &f[i].m, NULL, 0, CTX);
	room_free(r);
	fakes_free(f, 3);
}
END_TEST

static Suite *
room_suite(void)
{
	Suite	*s = suite_create("room");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_join_names_and_announces);
	tcase_add_test(tc, test_greeting);
	tcase_add_test(tc, test_announce_max);
	tcase_add_test(tc, test_nick_rules);
	tcase_add_test(tc, test_nick_any_seed);
	tcase_add_test(tc, test_who_lines);
	tcase_add_test(tc, test_who_bounded);
	tcase_add_test(tc, test_total_order);
	tcase_add_test(tc, test_batches_stay_together);
	tcase_add_test(tc, test_shared_not_copied);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(room_suite());
}
