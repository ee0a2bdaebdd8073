/*
 * check_model.c - the chat model with a fake front-end: membership and
 * the nick table, rooms' lifetimes and limits, history, and above all
 * the one order per room that every member sees, under threads.
 *
 * The fake front-end records what each user is given, as line.c would
 * queue it: the event (with a reference, to look at its kind, seq and
 * text) and its rendered line, taken under the reference rules of
 * struct fanout exactly as line_deliver() takes them.  Every test ends
 * by checking that each line's count of references is its recipients'
 * plus the event's own: a prepaid reference lost or taken twice shows
 * there, as well as under ASan.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "linefmt.h"
#include "model.h"
#include "check_run.h"

#define CTX	((void *)0x1)	/* the callbacks get what the caller gave */
#define SEED	0x5eedULL	/* of the hash tables; any will do */
#define BATCH_MAX 64

enum rec_what { R_EVENT, R_JOINED };

struct rec {
	enum rec_what	 what;
	struct room	*room;		/* f->room (NULL: private) or ji->room */
	/* R_EVENT */
	struct event	*ev;		/* a reference */
	struct msg	*m;		/* a reference */
	bool		 labelled;
	/* R_JOINED */
	size_t		 members;
	bool		 on_connect;
	char		*topic;		/* a copy, NULL if none */
	struct event	**replay;	/* references */
	size_t		 nreplay;
};

struct fake {
	struct user	 u;
	pthread_mutex_t	 mu;		/* line.c's conn lock */
	struct rec	*recs;
	size_t		 n, cap;
};

static struct fake *
fake_of(struct user *u)
{
	return (struct fake *)(void *)((char *)u - offsetof(struct fake, u));
}

static struct rec *
rec_add_locked(struct fake *fk)
{
	struct rec	*v;

	if (fk->n == fk->cap) {
		fk->cap = fk->cap ? fk->cap * 2 : 64;
		v = realloc(fk->recs, fk->cap * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		fk->recs = v;
	}
	memset(&fk->recs[fk->n], 0, sizeof(fk->recs[0]));
	return &fk->recs[fk->n++];
}

/* line_deliver()'s rules, with an event reference kept alongside. */
static void
fake_deliver(struct user *u, struct fanout *f, void *ctx)
{
	struct fake		*fk = fake_of(u);
	struct event		*ev;
	struct msg		*out[BATCH_MAX];
	size_t			 taken[BATCH_MAX], i, n = 0;
	enum event_format	 fmt;
	struct rec		*r;

	ck_assert_ptr_eq(ctx, CTX);
	ck_assert_uint_le(f->n, BATCH_MAX);
	pthread_mutex_lock(&fk->mu);
	fmt = f->room == NULL || u->current == f->room ? FMT_LINE :
	    FMT_LINE_LABELLED;
	for (i = 0; i < f->n; i++) {
		ev = f->evs[i];
		if (!user_first_of_group(u, ev->group))
			continue;
		if (ev->rendered[fmt] == NULL)
			ev->rendered[fmt] = linefmt_event(ev,
			    fmt == FMT_LINE_LABELLED);
		ck_assert_ptr_nonnull(ev->rendered[fmt]);
		out[n] = ev->rendered[fmt];
		taken[n++] = i;
	}
	if (n == f->n && f->used[fmt] < f->prepaid[fmt])
		f->used[fmt]++;
	else
		for (i = 0; i < n; i++)
			msg_ref(out[i]);
	for (i = 0; i < n; i++) {
		r = rec_add_locked(fk);
		r->what = R_EVENT;
		r->room = f->room;
		r->ev = event_ref(f->evs[taken[i]]);
		r->m = out[i];
		r->labelled = fmt == FMT_LINE_LABELLED;
	}
	pthread_mutex_unlock(&fk->mu);
}

static void
fake_joined(struct user *u, const struct join_info *ji, void *ctx)
{
	struct fake	*fk = fake_of(u);
	struct rec	*r;
	size_t		 i;

	ck_assert_ptr_eq(ctx, CTX);
	pthread_mutex_lock(&fk->mu);
	u->current = ji->room;
	r = rec_add_locked(fk);
	r->what = R_JOINED;
	r->room = ji->room;
	r->members = ji->members;
	r->on_connect = ji->on_connect;
	if (ji->topic != NULL) {
		ck_assert_ptr_nonnull(r->topic = strndup(ji->topic,
		    ji->topic_len));
		ck_assert_uint_eq(strlen(r->topic), ji->topic_len);
	}
	if (ji->nreplay > 0) {
		r->replay = calloc(ji->nreplay, sizeof(*r->replay));
		ck_assert_ptr_nonnull(r->replay);
		for (i = 0; i < ji->nreplay; i++)
			r->replay[i] = event_ref(ji->replay[i]);
	}
	r->nreplay = ji->nreplay;
	pthread_mutex_unlock(&fk->mu);
}

static const struct frontend fake_fe = {
	.name = "fake",
	.deliver = fake_deliver,
	.joined = fake_joined,
};

static void
config_default(struct model_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->default_room = "#lobby";
	cfg->announce_max = 200;
	cfg->max_rooms = 100;
	cfg->max_rooms_per_user = 20;
	cfg->max_room_name = 50;
	cfg->max_topic = 300;
	cfg->history = 100;
	cfg->history_bytes = 1 << 20;
	cfg->seed = SEED;
}

static struct model *
model_default(void)
{
	struct model_config	 cfg;
	struct model		*m;

	config_default(&cfg);
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	return m;
}

static struct fake *
fakes_new(size_t n)
{
	struct fake	*v = calloc(n, sizeof(*v));
	size_t		 i;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		v[i].u.fe = &fake_fe;
		pthread_mutex_init(&v[i].mu, NULL);
	}
	return v;
}

static void
fake_connect(struct model *m, struct fake *f)
{
	ck_assert_int_eq(model_connect(m, &f->u, CTX), M_OK);
}

static void
connect_all(struct model *m, struct fake *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		fake_connect(m, &v[i]);
}

/* A plain number, for readable failures. */
static unsigned
refs_of(struct msg *m)
{
	return atomic_load(&m->refs);
}

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t	 x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every line anyone was given holds one reference per recipient who
 * holds it, plus its event's own: no prepaid reference lost or left.
 */
static void
assert_refs(struct fake *v, size_t n)
{
	uintptr_t	*all;
	struct msg	*m;
	size_t		 total = 0, i, j, k, run;

	for (i = 0; i < n; i++)
		total += v[i].n;
	if (total == 0)
		return;
	ck_assert_ptr_nonnull(all = calloc(total, sizeof(*all)));
	for (i = 0, k = 0; i < n; i++)
		for (j = 0; j < v[i].n; j++)
			if (v[i].recs[j].what == R_EVENT)
				all[k++] = (uintptr_t)v[i].recs[j].m;
	qsort(all, k, sizeof(*all), ptr_cmp);
	for (i = 0; i < k; i += run) {
		for (run = 1; i + run < k && all[i + run] == all[i]; run++)
			continue;
		m = (struct msg *)all[i];
		ck_assert_uint_eq(refs_of(m), run + 1);
	}
	free(all);
}

/* The references checked, every user forgotten, the model and all freed. */
static void
teardown(struct model *m, struct fake *v, size_t n)
{
	struct rec	*r;
	size_t		 i, j, k;

	assert_refs(v, n);
	for (i = 0; i < n; i++)
		model_forget(m, &v[i].u);
	ck_assert_uint_eq(model_users_count(m), 0);
	model_free(m);
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i].n; j++) {
			r = &v[i].recs[j];
			if (r->ev != NULL)
				event_unref(r->ev);
			if (r->m != NULL)
				msg_unref(r->m);
			for (k = 0; k < r->nreplay; k++)
				event_unref(r->replay[k]);
			free(r->replay);
			free(r->topic);
		}
		free(v[i].recs);
		pthread_mutex_destroy(&v[i].mu);
	}
	free(v);
}

static struct room *
join_replay(struct model *m, struct fake *f, const char *name, size_t replay)
{
	struct room	*r = NULL;
	const char	*why = NULL;

	ck_assert_int_eq(model_join(m, &f->u, name, strlen(name), replay, &r,
	    &why, CTX), M_OK);
	ck_assert_ptr_nonnull(r);
	return r;
}

static struct room *
join(struct model *m, struct fake *f, const char *name)
{
	return join_replay(m, f, name, 0);
}

static int
join_rc(struct model *m, struct fake *f, const char *name, struct room **out)
{
	const char	*why = NULL;
	struct room	*r = NULL;
	int		 rc;

	rc = model_join(m, &f->u, name, strlen(name), 0, &r, &why, CTX);
	if (rc == M_BAD_NAME)
		ck_assert_ptr_nonnull(why);
	if (out != NULL)
		*out = r;
	return rc;
}

static void
part(struct model *m, struct fake *f, struct room *r)
{
	ck_assert_int_eq(model_part(m, &f->u, r, NULL, 0, CTX), M_OK);
}

/* The default room, left, so f is in no room but those it joins. */
static struct room *
lobby_of(struct fake *f)
{
	ck_assert_uint_ge(f->u.nrooms, 1);
	return f->u.rooms[0]->room;
}

static void
leave_lobby(struct model *m, struct fake *f)
{
	part(m, f, lobby_of(f));
}

static void
set_current(struct fake *f, struct room *r)
{
	pthread_mutex_lock(&f->mu);
	f->u.current = r;
	pthread_mutex_unlock(&f->mu);
}

static struct event *
mkev(struct fake *f, struct room *r, enum event_kind kind, const char *text,
    bool prerender)
{
	struct event	*ev;
	const char	*name;
	size_t		 len;

	name = room_name(r, &len);
	ev = event_new(kind, 0, event_clock_ms(), name, len, f->u.nick,
	    f->u.nick_len, text, strlen(text));
	ck_assert_ptr_nonnull(ev);
	/* As line.c's batch_say() does, outside the room's lock. */
	if (prerender)
		ck_assert_ptr_nonnull(ev->rendered[FMT_LINE] =
		    linefmt_event(ev, false));
	return ev;
}

/* A line said in r, with the caller's reference still on it. */
static struct event *
say_ev(struct model *m, struct fake *f, struct room *r, enum event_kind kind,
    const char *text, bool prerender)
{
	struct event	*ev = mkev(f, r, kind, text, prerender);

	ck_assert_int_eq(model_say(m, &f->u, r, &ev, 1, CTX), M_OK);
	return ev;
}

static void
say(struct model *m, struct fake *f, struct room *r, const char *text)
{
	event_unref(say_ev(m, f, r, EV_SAY, text, true));
}

static struct rec *
last_event(struct fake *f)
{
	size_t	 i;

	for (i = f->n; i > 0; i--)
		if (f->recs[i - 1].what == R_EVENT)
			return &f->recs[i - 1];
	ck_abort_msg("%s was given no event", f->u.nick);
	return NULL;
}

static struct rec *
last_joined(struct fake *f)
{
	size_t	 i;

	for (i = f->n; i > 0; i--)
		if (f->recs[i - 1].what == R_JOINED)
			return &f->recs[i - 1];
	ck_abort_msg("%s joined nothing", f->u.nick);
	return NULL;
}

/* The line of a record, CRLF checked and cut. */
static const char *
line_of(const struct rec *r)
{
	static char	 buf[8192];
	struct msg	*m = r->m;

	ck_assert_int_eq(r->what, R_EVENT);
	ck_assert_uint_ge(m->len, 2);
	ck_assert_uint_lt(m->len, sizeof(buf));
	ck_assert(m->data[m->len - 2] == '\r' && m->data[m->len - 1] == '\n');
	memcpy(buf, m->data, m->len - 2);
	buf[m->len - 2] = '\0';
	return buf;
}

static const char *
last_line(struct fake *f)
{
	return line_of(last_event(f));
}

/* Events of kind given to f from record from on. */
static size_t
count_kind(struct fake *f, size_t from, enum event_kind kind)
{
	size_t	 i, n = 0;

	for (i = from; i < f->n; i++)
		if (f->recs[i].what == R_EVENT && f->recs[i].ev->kind == kind)
			n++;
	return n;
}

/*
 * Connecting: guestN names, the welcome's facts, the others told.
 */

START_TEST(test_connect_names_and_announces)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(4);
	struct room	*lobby;
	struct rec	*j;

	fake_connect(m, &f[0]);
	ck_assert_str_eq(f[0].u.nick, "guest1");
	ck_assert_uint_eq(f[0].n, 1);
	j = last_joined(&f[0]);
	ck_assert(j->on_connect);
	ck_assert_uint_eq(j->members, 1);
	ck_assert_uint_eq(j->nreplay, 0);
	ck_assert_ptr_null(j->topic);
	lobby = j->room;
	ck_assert_str_eq(room_name(lobby, NULL), "#lobby");
	ck_assert_ptr_eq(f[0].u.current, lobby);

	fake_connect(m, &f[1]);
	ck_assert_str_eq(f[1].u.nick, "guest2");
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	ck_assert_ptr_eq(last_event(&f[0])->room, lobby);
	ck_assert(!last_event(&f[0])->labelled);
	/* The joiner hears its welcome, not its own join. */
	ck_assert_uint_eq(f[1].n, 1);
	ck_assert_uint_eq(last_joined(&f[1])->members, 2);
	ck_assert(last_joined(&f[1])->on_connect);
	ck_assert_uint_eq(room_members(lobby), 2);
	ck_assert_uint_eq(model_users_count(m), 2);
	ck_assert_uint_eq(model_rooms_count(m), 1);

	/* guestN skips names that are taken, whatever their case. */
	ck_assert_int_eq(model_nick(m, &f[0].u, "GUEST3", 6, &(const char *){
	    NULL }, CTX), M_OK);
	fake_connect(m, &f[2]);
	ck_assert_str_eq(f[2].u.nick, "guest4");

	/* Connecting is silent: no replay, whatever the room's history. */
	say(m, &f[0], lobby, "before you came");
	fake_connect(m, &f[3]);
	ck_assert_uint_eq(f[3].n, 1);
	ck_assert_uint_eq(last_joined(&f[3])->nreplay, 0);
	ck_assert_uint_eq(last_joined(&f[3])->members, 4);

	ck_assert_int_eq(model_part(m, &f[2].u, lobby, "gone fishing", 12,
	    CTX), M_OK);
	ck_assert_str_eq(last_line(&f[0]), "-- guest4 left (gone fishing)");
	ck_assert_str_eq(last_line(&f[1]), "-- guest4 left (gone fishing)");
	ck_assert_uint_eq(f[2].u.nrooms, 0);
	part(m, &f[1], lobby);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 left");
	ck_assert_uint_eq(room_members(lobby), 2);
	/* Leaving twice is refused, and changes nothing. */
	ck_assert_int_eq(model_part(m, &f[1].u, lobby, NULL, 0, CTX),
	    M_NOT_MEMBER);
	ck_assert_uint_eq(room_members(lobby), 2);
	teardown(m, f, 4);
}
END_TEST

START_TEST(test_announce_max)
{
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(4);
	struct room		*lobby, *small;
	const char		*why;
	size_t			 n0, n1, n3;

	config_default(&cfg);
	cfg.announce_max = 2;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	connect_all(m, f, 2);
	lobby = lobby_of(&f[0]);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	n0 = f[0].n;
	fake_connect(m, &f[2]);
	ck_assert_uint_eq(f[0].n, n0);		/* 3 > 2: not announced */
	ck_assert_uint_eq(f[2].n, 1);		/* but welcomed */
	ck_assert_uint_eq(last_joined(&f[2])->members, 3);

	/* Above the limit a nick change is told to its owner only. */
	ck_assert_int_eq(model_nick(m, &f[2].u, "zed", 3, &why, CTX), M_OK);
	ck_assert_str_eq(last_line(&f[2]), "-- guest3 is now known as zed");
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(count_kind(&f[1], 0, EV_NICK), 0);

	/* Back at the limit, parts are announced again. */
	part(m, &f[2], lobby);
	ck_assert_str_eq(last_line(&f[0]), "-- zed left");
	ck_assert_str_eq(last_line(&f[1]), "-- zed left");

	/* The limit is per room: a small room announces, the lobby not. */
	small = join(m, &f[0], "#small");
	fake_connect(m, &f[3]);		/* the lobby: 3 again */
	n0 = f[0].n;
	n1 = f[1].n;
	ck_assert_ptr_eq(join(m, &f[3], "#small"), small);
	ck_assert_uint_eq(f[0].n, n0 + 1);
	ck_assert_str_eq(last_line(&f[0]), "-- guest4 joined");
	ck_assert_ptr_eq(last_event(&f[0])->room, small);
	ck_assert_uint_eq(f[1].n, n1);

	/* One rename, heard where the room is small, once by its owner. */
	n3 = f[3].n;
	ck_assert_int_eq(model_nick(m, &f[3].u, "neo", 3, &why, CTX), M_OK);
	ck_assert_uint_eq(count_kind(&f[0], n0, EV_NICK), 1);
	ck_assert_str_eq(last_line(&f[0]), "-- guest4 is now known as neo");
	ck_assert_uint_eq(count_kind(&f[1], 0, EV_NICK), 0);
	ck_assert_uint_eq(count_kind(&f[3], n3, EV_NICK), 1);
	ck_assert(strstr(last_line(&f[3]), "guest4 is now known as neo") !=
	    NULL);

	/* A reload can lower it: now nobody hears of joins or parts. */
	cfg.announce_max = 0;
	model_set_limits(m, &cfg);
	n0 = f[0].n;
	n3 = f[3].n;
	join(m, &f[1], "#small");
	part(m, &f[1], small);
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(f[3].n, n3);
	teardown(m, f, 4);
}
END_TEST

START_TEST(test_nick_rules)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(2);
	char		 to[NICK_MAX_BYTES + 1];
	const char	*why;
	size_t		 n0, n1;
	struct rec	*r;

	connect_all(m, f, 2);
	ck_assert_int_eq(model_nick(m, &f[0].u, "Alice", 5, &why, CTX), M_OK);
	ck_assert_str_eq(f[0].u.nick, "Alice");
	ck_assert_str_eq(last_line(&f[1]), "-- guest1 is now known as Alice");
	ck_assert_str_eq(last_line(&f[0]), "-- guest1 is now known as Alice");
	ck_assert_uint_eq(count_kind(&f[0], 0, EV_NICK), 1);

	n0 = f[0].n;
	n1 = f[1].n;
	ck_assert_int_eq(model_nick(m, &f[1].u, "aLICE", 5, &why, CTX),
	    M_NICK_TAKEN);
	ck_assert_str_eq(f[1].u.nick, "guest2");
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(f[1].n, n1);

	/* A user may change the case of its own nickname. */
	ck_assert_int_eq(model_nick(m, &f[0].u, "ALICE", 5, &why, CTX), M_OK);
	ck_assert_str_eq(f[0].u.nick, "ALICE");
	ck_assert_str_eq(last_line(&f[1]), "-- Alice is now known as ALICE");

	why = NULL;
	n1 = f[1].n;
	ck_assert_int_eq(model_nick(m, &f[1].u, "9lives", 6, &why, CTX),
	    M_BAD_NICK);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(f[1].u.nick, "guest2");
	why = NULL;
	ck_assert_int_eq(model_nick(m, &f[1].u, "a b", 3, &why, CTX),
	    M_BAD_NICK);
	ck_assert_ptr_nonnull(why);
	why = NULL;
	ck_assert_int_eq(model_nick(m, &f[1].u,
	    "abcdefghijklmnopqrstuvwxyzabcdefg", 33, &why, CTX), M_BAD_NICK);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(f[1].n, n1);

	/* The old name is free again, the new one found case-blind. */
	ck_assert_int_eq(model_nick(m, &f[1].u, "guest1", 6, &why, CTX),
	    M_OK);
	ck_assert_str_eq(f[1].u.nick, "guest1");
	ck_assert_int_eq(model_private(m, &f[1].u, "alice", 5, "hi", 2, to,
	    CTX), M_OK);
	ck_assert_str_eq(to, "ALICE");		/* as its owner spells it */
	r = last_event(&f[0]);
	ck_assert_int_eq(r->ev->kind, EV_PRIVATE);
	ck_assert_ptr_null(r->room);
	ck_assert_str_eq(line_of(r), "*guest1* hi");
	/* The sender's copy is the front-end's to make. */
	ck_assert_str_eq(last_line(&f[1]), "-- guest2 is now known as guest1");
	teardown(m, f, 2);
}
END_TEST

/*
 * Whatever the seed, and as the nick table grows past its first
 * buckets, a nickname is found under any ASCII case: the hash stays
 * consistent with nick_equal().
 */
START_TEST(test_nick_any_seed)
{
	static const uint64_t seeds[] = { 0, 1, 0x9e3779b97f4a7c15ULL,
	    UINT64_MAX };
	enum { N = 300 };
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f;
	char			 name[16], to[NICK_MAX_BYTES + 1];
	const char		*why;
	size_t			 i, k;
	int			 n;

	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		config_default(&cfg);
		cfg.seed = seeds[k];
		cfg.announce_max = 0;	/* N squared lines would say nothing */
		ck_assert_ptr_nonnull(m = model_new(&cfg));
		f = fakes_new(N);
		for (i = 0; i < N; i++) {
			fake_connect(m, &f[i]);
			n = snprintf(name, sizeof(name), "Nick%zu", i);
			ck_assert_int_eq(model_nick(m, &f[i].u, name,
			    (size_t)n, &why, CTX), M_OK);
			ck_assert_str_eq(f[i].u.nick, name);
		}
		ck_assert_uint_eq(model_users_count(m), N);
		for (i = 1; i < N; i++) {
			n = snprintf(name, sizeof(name), "NICK%zu", i);
			ck_assert_int_eq(model_nick(m, &f[0].u, name,
			    (size_t)n, &why, CTX), M_NICK_TAKEN);
			ck_assert_str_eq(f[0].u.nick, "Nick0");
			n = snprintf(name, sizeof(name), "nick%zu", i);
			ck_assert_int_eq(model_private(m, &f[0].u, name,
			    (size_t)n, "hi", 2, to, CTX), M_OK);
			ck_assert_str_eq(last_line(&f[i]), "*Nick0* hi");
			ck_assert_str_eq(to, f[i].u.nick);
		}
		teardown(m, f, N);
	}
}
END_TEST

struct who_seen {
	size_t	 calls;
	size_t	 count;		/* what the first call said */
	bool	 first_was_count;
	size_t	 stop_after;	/* names; 0: never stop */
	char	 names[200][NICK_MAX_BYTES + 1];
	size_t	 nnames;
};

static bool
who_record(void *arg, const char *nick, size_t len)
{
	struct who_seen	*w = arg;

	if (w->calls++ == 0) {
		w->first_was_count = nick == NULL;
		w->count = len;
		return w->stop_after != (size_t)-1;
	}
	ck_assert_ptr_nonnull(nick);
	ck_assert_uint_lt(w->nnames, 200);
	ck_assert_uint_le(len, NICK_MAX_BYTES);
	memcpy(w->names[w->nnames], nick, len);
	w->names[w->nnames][len] = '\0';
	w->nnames++;
	return w->stop_after == 0 || w->nnames < w->stop_after;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_who)
{
	enum { N = 150 };
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(N);
	struct who_seen		*w;
	struct room		*lobby;
	char			 want[N][NICK_MAX_BYTES + 1];
	size_t			 i;

	config_default(&cfg);
	cfg.announce_max = 0;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	ck_assert_ptr_nonnull(w = calloc(1, sizeof(*w)));
	connect_all(m, f, N);
	lobby = lobby_of(&f[0]);
	/* Names as they are now, any bytes of them. */
	ck_assert_int_eq(model_nick(m, &f[3].u, "Zo\xc3\xab", 4,
	    &(const char *){ NULL }, CTX), M_OK);
	ck_assert_uint_eq(model_who(m, lobby, who_record, w), N);
	ck_assert(w->first_was_count);
	ck_assert_uint_eq(w->count, N);
	ck_assert_uint_eq(w->nnames, N);
	/* Every member once, none else. */
	for (i = 0; i < N; i++)
		memcpy(want[i], f[i].u.nick, f[i].u.nick_len + 1);
	qsort(want, N, sizeof(want[0]), str_cmp);
	qsort(w->names, N, sizeof(w->names[0]), str_cmp);
	for (i = 0; i < N; i++)
		ck_assert_str_eq(w->names[i], want[i]);

	/* The callback stops it; the count is still the room's. */
	memset(w, 0, sizeof(*w));
	w->stop_after = 10;
	ck_assert_uint_eq(model_who(m, lobby, who_record, w), N);
	ck_assert_uint_eq(w->nnames, 10);
	memset(w, 0, sizeof(*w));
	w->stop_after = (size_t)-1;	/* stop at the count */
	ck_assert_uint_eq(model_who(m, lobby, who_record, w), N);
	ck_assert_uint_eq(w->calls, 1);

	/* A part is seen at once. */
	part(m, &f[7], lobby);
	memset(w, 0, sizeof(*w));
	ck_assert_uint_eq(model_who(m, lobby, who_record, w), N - 1);
	ck_assert_uint_eq(w->count, N - 1);
	ck_assert_uint_eq(w->nnames, N - 1);
	for (i = 0; i < w->nnames; i++)
		ck_assert_str_ne(w->names[i], f[7].u.nick);
	free(w);
	teardown(m, f, N);
}
END_TEST

/*
 * Threads that talk into rooms.
 */

struct sender {
	struct model	*m;
	struct fake	*f;
	struct room	*r;
	int		 id;
	int		 count;
	int		 batch_max;	/* lines a model_say(), cycling 1.. */
};

/* Lines "ID N", N from 0, in batches; every other batch pre-rendered. */
static void *
sender_main(void *arg)
{
	struct sender	*s = arg;
	struct event	*evs[BATCH_MAX];
	char		 text[64];
	int		 i = 0, j, k, b = 0;

	while (i < s->count) {
		k = 1 + b % s->batch_max;
		if (k > s->count - i)
			k = s->count - i;
		for (j = 0; j < k; j++) {
			snprintf(text, sizeof(text), "%d %d", s->id, i + j);
			evs[j] = mkev(s->f, s->r, EV_SAY, text, b % 2 == 0);
		}
		ck_assert_int_eq(model_say(s->m, &s->f->u, s->r, evs,
		    (size_t)k, CTX), M_OK);
		for (j = 0; j < k; j++)
			event_unref(evs[j]);
		i += k;
		b++;
	}
	return NULL;
}

static void
run_senders(struct sender *s, size_t n)
{
	pthread_t	*t = calloc(n, sizeof(*t));
	size_t		 i;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, sender_main,
		    &s[i]), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	free(t);
}

/* The records of f's from from on that are events of room r. */
static size_t
room_events(struct fake *f, size_t from, struct room *r, struct rec ***out)
{
	struct rec	**v;
	size_t		  i, n = 0;

	ck_assert_ptr_nonnull(v = calloc(f->n + 1, sizeof(*v)));
	for (i = from; i < f->n; i++)
		if (f->recs[i].what == R_EVENT && f->recs[i].room == r)
			v[n++] = &f->recs[i];
	*out = v;
	return n;
}

/*
 * The sequence of r's events that the members from[i] saw: the same
 * events in the same order for each, seqs one apart, each sender's lines
 * in its order.  Returns the events checked.
 */
static size_t
assert_room_order(struct fake **members, size_t nmembers, size_t *from,
    struct room *r, struct sender *senders, size_t nsenders)
{
	struct rec	**ref, **v;
	size_t		  n, k, i, j;
	int		 *next, id, seq;

	ck_assert_uint_gt(nmembers, 0);
	n = room_events(members[0], from[0], r, &ref);
	for (i = 1; i < nmembers; i++) {
		k = room_events(members[i], from[i], r, &v);
		ck_assert_uint_eq(k, n);
		for (j = 0; j < n; j++)
			ck_assert_ptr_eq(v[j]->ev, ref[j]->ev);
		free(v);
	}
	ck_assert_ptr_nonnull(next = calloc(nsenders, sizeof(*next)));
	for (j = 0; j < n; j++) {
		if (j > 0)
			ck_assert_uint_eq(ref[j]->ev->seq, ref[j - 1]->ev->seq +
			    1);
		ck_assert_int_eq(ref[j]->ev->kind, EV_SAY);
		ck_assert_int_eq(sscanf(ref[j]->ev->text, "%d %d", &id, &seq),
		    2);
		ck_assert_int_ge(id, 0);
		ck_assert_uint_lt((size_t)id, nsenders);
		ck_assert_ptr_eq(senders[id].r, r);
		ck_assert_str_eq(ref[j]->ev->nick, senders[id].f->u.nick);
		ck_assert_int_eq(seq, next[id]);
		next[id]++;
	}
	for (i = 0; i < nsenders; i++)
		if (senders[i].r == r)
			ck_assert_int_eq(next[i], senders[i].count);
	free(next);
	free(ref);
	return n;
}

/*
 * Five threads talk at once into a room of twelve: every member sees the
 * same sequence of the very same events and lines, seqs one apart, and
 * each sender's lines keep their order.
 */
START_TEST(test_total_order)
{
	enum { MEMBERS = 12, SENDERS = 5, PER = 2000 };
	struct model	*m = model_default();
	struct fake	*f = fakes_new(MEMBERS), *mp[MEMBERS];
	struct sender	 s[SENDERS];
	struct room	*lobby;
	size_t		 i, j, start[MEMBERS];

	connect_all(m, f, MEMBERS);
	lobby = lobby_of(&f[0]);
	for (i = 0; i < MEMBERS; i++) {
		start[i] = f[i].n;
		mp[i] = &f[i];
	}
	for (i = 0; i < SENDERS; i++)
		s[i] = (struct sender){ m, &f[i], lobby, (int)i, PER, 1 };
	run_senders(s, SENDERS);
	ck_assert_uint_eq(assert_room_order(mp, MEMBERS, start, lobby, s,
	    SENDERS), SENDERS * PER);
	/* Everyone's current room: one shared line per event. */
	for (i = 1; i < MEMBERS; i++) {
		ck_assert_uint_eq(f[i].n - start[i], SENDERS * PER);
		for (j = 0; j < SENDERS * PER; j++)
			ck_assert_ptr_eq(f[i].recs[start[i] + j].m,
			    f[0].recs[start[0] + j].m);
	}
	teardown(m, f, MEMBERS);
}
END_TEST

/* A batch reaches every member whole, in one place of the one order. */
START_TEST(test_batches_stay_together)
{
	enum { MEMBERS = 6, THREADS = 3, PER = 2000, BATCH = 4 };
	struct model	*m = model_default();
	struct fake	*f = fakes_new(MEMBERS), *mp[MEMBERS];
	struct sender	 s[THREADS];
	struct room	*lobby;
	struct rec	*r;
	size_t		 i, j, k, len, done, start[MEMBERS];
	int		 id, seq, first_id, first_seq;

	connect_all(m, f, MEMBERS);
	lobby = lobby_of(&f[0]);
	for (i = 0; i < MEMBERS; i++) {
		start[i] = f[i].n;
		mp[i] = &f[i];
	}
	/* Each sender's batches are of 1, 2, ... BATCH lines, and again. */
	for (i = 0; i < THREADS; i++)
		s[i] = (struct sender){ m, &f[i], lobby, (int)i, PER, BATCH };
	run_senders(s, THREADS);
	ck_assert_uint_eq(assert_room_order(mp, MEMBERS, start, lobby, s,
	    THREADS), THREADS * PER);
	/*
	 * Sizes cycle 1, 2, 3, 4: each sender's lines 0, 1-2, 3-5, 6-9...
	 * come as runs of those lengths, never split by another's.
	 */
	for (j = start[0]; j < f[0].n; ) {
		r = &f[0].recs[j];
		ck_assert_int_eq(sscanf(r->ev->text, "%d %d", &first_id,
		    &first_seq), 2);
		/* The batch that starts at first_seq, by the cycle. */
		for (k = 0, done = 0; done < (size_t)first_seq; k++)
			done += 1 + k % BATCH;
		ck_assert_uint_eq(done, (size_t)first_seq);
		len = 1 + k % BATCH;
		if (len > (size_t)(PER - first_seq))
			len = (size_t)(PER - first_seq);
		for (k = 1; k < len; k++) {
			ck_assert_uint_lt(j + k, f[0].n);
			ck_assert_int_eq(sscanf(f[0].recs[j + k].ev->text,
			    "%d %d", &id, &seq), 2);
			ck_assert_int_eq(id, first_id);
			ck_assert_int_eq(seq, first_seq + (int)k);
		}
		j += len;
	}
	teardown(m, f, MEMBERS);
}
END_TEST

/*
 * The line rendered before the lock is the one every member in the room
 * gets, by reference; a member elsewhere gets the labelled one, made
 * once; references not used are given back.
 */
START_TEST(test_shared_not_copied)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(3);
	struct room	*lobby, *other;
	struct event	*ev;
	struct msg	*plain, *lab;
	size_t		 i, n2;

	connect_all(m, f, 3);
	lobby = lobby_of(&f[0]);
	ev = say_ev(m, &f[0], lobby, EV_ME, "waves", true);
	plain = ev->rendered[FMT_LINE];
	for (i = 0; i < 3; i++)
		ck_assert_ptr_eq(last_event(&f[i])->m, plain);
	ck_assert_str_eq(last_line(&f[2]), "* guest1 waves");
	/* Three members hold it, plus its event. */
	ck_assert_uint_eq(refs_of(plain), 3 + 1);
	ck_assert_ptr_null(ev->rendered[FMT_LINE_LABELLED]);
	event_unref(ev);

	/* One member elsewhere: its line is the labelled one. */
	other = join(m, &f[2], "#other");
	ck_assert_ptr_eq(f[2].u.current, other);
	ev = say_ev(m, &f[0], lobby, EV_SAY, "hi", true);
	plain = ev->rendered[FMT_LINE];
	lab = ev->rendered[FMT_LINE_LABELLED];
	ck_assert_ptr_nonnull(lab);
	ck_assert_ptr_eq(last_event(&f[0])->m, plain);
	ck_assert_ptr_eq(last_event(&f[1])->m, plain);
	ck_assert_ptr_eq(last_event(&f[2])->m, lab);
	ck_assert(last_event(&f[2])->labelled);
	ck_assert_str_eq(last_line(&f[2]), "#lobby <guest1> hi");
	ck_assert_str_eq(last_line(&f[1]), "<guest1> hi");
	ck_assert_uint_eq(refs_of(plain), 2 + 1);
	ck_assert_uint_eq(refs_of(lab), 1 + 1);
	event_unref(ev);

	/* Not rendered ahead: made by the first who needs it, then shared. */
	ev = say_ev(m, &f[1], lobby, EV_SAY, "late", false);
	ck_assert_ptr_eq(last_event(&f[0])->m, last_event(&f[1])->m);
	ck_assert_ptr_eq(last_event(&f[0])->m, ev->rendered[FMT_LINE]);
	ck_assert_uint_eq(refs_of(ev->rendered[FMT_LINE]), 2 + 1);
	event_unref(ev);

	/* The shutdown notice: every user once, in however many rooms. */
	n2 = f[2].n;
	model_notice_all(m, "server shutting down", CTX);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(last_event(&f[i])->ev->kind, EV_NOTICE);
		ck_assert(strstr(last_line(&f[i]), "-- server shutting down") !=
		    NULL);
	}
	ck_assert_uint_eq(f[2].n, n2 + 1);
	ck_assert_uint_eq(count_kind(&f[0], 0, EV_NOTICE), 1);
	teardown(m, f, 3);
}
END_TEST

/*
 * Rooms.
 */

START_TEST(test_rooms_apart)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(3);
	struct room	*a, *b;
	size_t		 n0, n2;
	uint64_t	 seq;

	connect_all(m, f, 3);
	a = join(m, &f[1], "#a");
	b = join(m, &f[2], "#b");
	ck_assert_ptr_ne(a, b);
	leave_lobby(m, &f[1]);
	leave_lobby(m, &f[2]);
	ck_assert_uint_eq(model_rooms_count(m), 3);
	n0 = f[0].n;
	n2 = f[2].n;
	say(m, &f[1], a, "in a");
	ck_assert_str_eq(last_line(&f[1]), "<guest2> in a");
	ck_assert_ptr_eq(last_event(&f[1])->room, a);
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(f[2].n, n2);
	say(m, &f[2], b, "in b");
	ck_assert_str_eq(last_line(&f[2]), "<guest3> in b");
	ck_assert_str_eq(last_line(&f[1]), "<guest2> in a");
	ck_assert_uint_eq(f[0].n, n0);
	/* Each room counts its own events: a join, then a line, in each. */
	ck_assert_uint_eq(last_event(&f[1])->ev->seq,
	    last_event(&f[2])->ev->seq);
	say(m, &f[1], a, "more in a");
	say(m, &f[1], a, "and more");
	seq = last_event(&f[2])->ev->seq;
	say(m, &f[2], b, "b again");
	ck_assert_uint_eq(last_event(&f[2])->ev->seq, seq + 1);
	ck_assert_uint_eq(last_event(&f[1])->ev->seq, seq + 2);
	ck_assert_uint_eq(room_members(a), 1);
	ck_assert_uint_eq(room_members(b), 1);
	teardown(m, f, 3);
}
END_TEST

START_TEST(test_member_of_two_rooms)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(3);
	struct room	*a, *b;
	struct rec	*r;
	struct event	*ev;

	connect_all(m, f, 3);
	a = join(m, &f[0], "#a");
	ck_assert_ptr_eq(join(m, &f[1], "#a"), a);
	b = join(m, &f[0], "#b");
	join(m, &f[2], "#b");
	ck_assert_ptr_eq(f[0].u.current, b);
	ck_assert_uint_eq(f[0].u.nrooms, 3);
	ck_assert_ptr_eq(model_joined(&f[0].u, "#A", 2), a);
	ck_assert_ptr_eq(model_joined(&f[0].u, "#b", 2), b);
	ck_assert_ptr_null(model_joined(&f[1].u, "#b", 2));

	/* From the room it is not in: labelled with that room. */
	ev = say_ev(m, &f[1], a, EV_SAY, "over here", true);
	r = last_event(&f[0]);
	ck_assert_ptr_eq(r->ev, ev);
	ck_assert_ptr_eq(r->room, a);
	ck_assert(r->labelled);
	ck_assert_str_eq(line_of(r), "#a <guest2> over here");
	ck_assert_str_eq(last_line(&f[1]), "<guest2> over here");
	ck_assert_uint_eq(count_kind(&f[2], 0, EV_SAY), 0);
	event_unref(ev);
	/* From its current room: the v1 line. */
	say(m, &f[2], b, "and here");
	ck_assert_str_eq(last_line(&f[0]), "<guest3> and here");
	ck_assert_ptr_eq(last_event(&f[0])->room, b);
	ck_assert_str_eq(last_line(&f[1]), "<guest2> over here");

	/* The current room moves, and the labels with it. */
	set_current(&f[0], a);
	say(m, &f[2], b, "again");
	ck_assert_str_eq(last_line(&f[0]), "#b <guest3> again");
	teardown(m, f, 3);
}
END_TEST

START_TEST(test_join_limits)
{
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(3);
	struct room		*a, *b, *r;
	char			 name[64];
	size_t			 n0;

	config_default(&cfg);
	cfg.max_rooms_per_user = 3;
	cfg.max_rooms = 4;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	connect_all(m, f, 3);

	/* Per user: the default room counts. */
	a = join(m, &f[0], "#a");
	b = join(m, &f[0], "#b");
	ck_assert_int_eq(join_rc(m, &f[0], "#c", NULL), M_TOO_MANY_JOINED);
	ck_assert_uint_eq(f[0].u.nrooms, 3);
	ck_assert_uint_eq(model_rooms_count(m), 3);
	ck_assert_ptr_null(model_joined(&f[0].u, "#c", 2));
	/* Already in it: a switch, nothing joined, case-blind. */
	n0 = f[0].n;
	ck_assert_int_eq(join_rc(m, &f[0], "#A", &r), M_ALREADY);
	ck_assert_ptr_eq(r, a);
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(room_members(a), 1);
	part(m, &f[0], a);
	ck_assert_int_eq(join_rc(m, &f[0], "#c", NULL), M_OK);

	/* Per server: 4 rooms, all with members. */
	ck_assert_uint_eq(model_rooms_count(m), 3);	/* #a went */
	join(m, &f[1], "#d");
	ck_assert_uint_eq(model_rooms_count(m), 4);
	ck_assert_int_eq(join_rc(m, &f[2], "#e", NULL), M_TOO_MANY_ROOMS);
	ck_assert_uint_eq(model_rooms_count(m), 4);
	ck_assert_uint_eq(f[2].u.nrooms, 1);
	/* An existing room is no new one. */
	ck_assert_ptr_eq(join(m, &f[2], "#B"), b);

	/* Names. */
	ck_assert_int_eq(join_rc(m, &f[1], "lobby", NULL), M_BAD_NAME);
	ck_assert_int_eq(join_rc(m, &f[1], "#", NULL), M_BAD_NAME);
	ck_assert_int_eq(join_rc(m, &f[1], "#a b", NULL), M_BAD_NAME);
	ck_assert_int_eq(join_rc(m, &f[1], "#a,b", NULL), M_BAD_NAME);
	ck_assert_int_eq(join_rc(m, &f[1], "#a\x1b", NULL), M_BAD_NAME);
	memset(name, 'x', sizeof(name));
	name[0] = '#';
	name[51] = '\0';
	/* 50 code points pass the name's check, to meet f[0]'s limit. */
	ck_assert_uint_eq(f[0].u.nrooms, 3);
	ck_assert_int_eq(join_rc(m, &f[0], name, NULL), M_TOO_MANY_JOINED);
	name[52] = '\0';
	name[51] = 'x';
	ck_assert_int_eq(join_rc(m, &f[0], name, NULL), M_BAD_NAME);
	/* A name is checked before anything else, whatever the limits. */
	cfg.max_room_name = 3;
	model_set_limits(m, &cfg);
	ck_assert_int_eq(join_rc(m, &f[0], "#abcd", NULL), M_BAD_NAME);
	ck_assert_int_eq(join_rc(m, &f[0], "#b", &r), M_ALREADY);
	ck_assert_uint_eq(model_rooms_count(m), 4);
	teardown(m, f, 3);
}
END_TEST

/* The room keeps its creator's spelling; any spelling finds it. */
START_TEST(test_room_name_spelling)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(2);
	struct room	*r;
	size_t		 len;

	connect_all(m, f, 2);
	r = join(m, &f[0], "#Rust");
	ck_assert_ptr_eq(join(m, &f[1], "#rUST"), r);
	ck_assert_str_eq(room_name(r, &len), "#Rust");
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 joined");
	ck_assert_uint_eq(last_joined(&f[1])->members, 2);
	ck_assert(!last_joined(&f[1])->on_connect);
	ck_assert_uint_eq(model_rooms_count(m), 2);
	teardown(m, f, 2);
}
END_TEST

struct room_list {
	char	 names[16][ROOM_NAME_MAX_BYTES + 1];
	size_t	 members[16];
	size_t	 n;
};

static bool
room_record(void *arg, const char *name, size_t len, size_t members,
    const char *topic, size_t topic_len)
{
	struct room_list	*l = arg;

	(void)topic;
	(void)topic_len;
	ck_assert_uint_lt(l->n, 16);
	memcpy(l->names[l->n], name, len);
	l->names[l->n][len] = '\0';
	l->members[l->n] = members;
	l->n++;
	return true;
}

static bool
room_listed(struct model *m, const char *name)
{
	struct room_list	 l;
	size_t			 i;

	memset(&l, 0, sizeof(l));
	ck_assert_uint_eq(model_rooms(m, room_record, &l), l.n);
	ck_assert_uint_eq(l.n, model_rooms_count(m));
	for (i = 0; i < l.n; i++)
		if (strcmp(l.names[i], name) == 0)
			return true;
	return false;
}

/*
 * An empty room goes at once unless it has history; one with history
 * stays until --max-rooms needs its slot, the one empty longest first.
 */
START_TEST(test_room_lifetime)
{
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(2);
	struct room		*r, *x, *y;

	config_default(&cfg);
	cfg.max_rooms = 4;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	connect_all(m, f, 2);
	ck_assert_uint_eq(model_rooms_count(m), 1);
	r = join(m, &f[0], "#tmp");
	ck_assert_uint_eq(model_rooms_count(m), 2);
	ck_assert_ptr_eq(join(m, &f[1], "#tmp"), r);
	part(m, &f[0], r);
	ck_assert_uint_eq(model_rooms_count(m), 2);	/* f[1] is there */
	part(m, &f[1], r);
	ck_assert_uint_eq(model_rooms_count(m), 1);
	ck_assert(!room_listed(m, "#tmp"));

	/* #x made first, #y emptied first: #y is the one empty longest. */
	x = join(m, &f[0], "#x");
	say(m, &f[0], x, "x was here");
	y = join(m, &f[0], "#y");
	say(m, &f[0], y, "y was here");
	part(m, &f[0], y);
	part(m, &f[0], x);
	ck_assert_uint_eq(model_rooms_count(m), 3);
	ck_assert(room_listed(m, "#x") && room_listed(m, "#y"));
	/* Back in #x: the same room, its history there. */
	x = join_replay(m, &f[1], "#x", 10);
	ck_assert_uint_eq(last_joined(&f[1])->nreplay, 1);
	ck_assert_str_eq(last_joined(&f[1])->replay[0]->text, "x was here");
	part(m, &f[1], x);

	/* A fourth fits; a fifth takes #y's slot, then #x's. */
	join(m, &f[0], "#z");
	ck_assert_uint_eq(model_rooms_count(m), 4);
	join(m, &f[0], "#w");
	ck_assert_uint_eq(model_rooms_count(m), 4);
	ck_assert(!room_listed(m, "#y"));
	ck_assert(room_listed(m, "#x"));
	r = join(m, &f[1], "#v");
	ck_assert_uint_eq(model_rooms_count(m), 4);
	ck_assert(!room_listed(m, "#x"));
	/* Nothing left to evict: every room has members. */
	ck_assert_int_eq(join_rc(m, &f[1], "#x", NULL), M_TOO_MANY_ROOMS);
	/* Once there is room, #y is made anew: its history went with it. */
	part(m, &f[1], r);
	ck_assert_uint_eq(model_rooms_count(m), 3);
	join_replay(m, &f[1], "#y", 10);
	ck_assert_uint_eq(last_joined(&f[1])->nreplay, 0);
	teardown(m, f, 2);
}
END_TEST

/*
 * History.
 */

/* Say and /me alternately, n lines "line I", with a join and a topic. */
static void
fill_history(struct model *m, struct fake *talker, struct fake *visitor,
    struct room *r, int n)
{
	char	 text[32];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		event_unref(say_ev(m, talker, r, i % 2 ? EV_ME : EV_SAY, text,
		    i % 3 == 0));
		if (i == n / 2) {
			/* Not history: joins, parts and topics. */
			join(m, visitor, room_name(r, NULL));
			part(m, visitor, r);
			ck_assert_int_eq(model_topic(m, &talker->u, r,
			    "a topic", 7, CTX), M_OK);
		}
	}
}

/* The events hold the last n lines of fill_history(total), oldest first. */
static void
assert_last_lines(struct event *const *evs, size_t n, int total)
{
	char	 want[32];
	size_t	 i, line;

	for (i = 0; i < n; i++) {
		line = (size_t)total - n + i;
		snprintf(want, sizeof(want), "line %zu", line);
		ck_assert_str_eq(evs[i]->text, want);
		ck_assert_int_eq(evs[i]->kind, line % 2 ? EV_ME : EV_SAY);
		if (i > 0)
			ck_assert_uint_gt(evs[i]->seq, evs[i - 1]->seq);
	}
}

START_TEST(test_replay_on_join)
{
	enum { LINES = 30 };
	struct model	*m = model_default();
	struct fake	*f = fakes_new(4);
	struct room	*r;
	struct rec	*j;

	connect_all(m, f, 4);
	r = join(m, &f[0], "#r");
	fill_history(m, &f[0], &f[3], r, LINES);

	join_replay(m, &f[1], "#r", 10);
	j = last_joined(&f[1]);
	ck_assert(!j->on_connect);
	ck_assert_uint_eq(j->members, 2);
	ck_assert_str_eq(j->topic, "a topic");
	ck_assert_uint_eq(j->nreplay, 10);
	assert_last_lines(j->replay, j->nreplay, LINES);
	/* The joined callback came before any event of the room. */
	ck_assert_ptr_eq(&f[1].recs[f[1].n - 1], j);

	/* More than there is (and past the stack array): all of it. */
	join_replay(m, &f[2], "#r", 100);
	j = last_joined(&f[2]);
	ck_assert_uint_eq(j->nreplay, LINES);
	assert_last_lines(j->replay, j->nreplay, LINES);
	part(m, &f[2], r);
	join_replay(m, &f[2], "#r", 0);
	ck_assert_uint_eq(last_joined(&f[2])->nreplay, 0);
	teardown(m, f, 4);
}
END_TEST

START_TEST(test_history_bounds)
{
	enum { LINES = 30, KEEP = 12 };
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(3);
	struct event		*out[LINES + 1];
	struct room		*r;
	size_t			 n, i;

	config_default(&cfg);
	cfg.history = KEEP;
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	connect_all(m, f, 3);
	r = join(m, &f[0], "#r");
	fill_history(m, &f[0], &f[2], r, LINES);

	n = model_history(m, r, 5, out);
	ck_assert_uint_eq(n, 5);
	assert_last_lines(out, n, LINES);
	for (i = 0; i < n; i++) {
		/* The caller's reference, besides the ring's. */
		ck_assert_uint_ge((unsigned)atomic_load(&out[i]->refs), 2);
		event_unref(out[i]);
	}
	n = model_history(m, r, LINES + 1, out);
	ck_assert_uint_eq(n, KEEP);
	assert_last_lines(out, n, LINES);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	join_replay(m, &f[1], "#r", LINES);
	ck_assert_uint_eq(last_joined(&f[1])->nreplay, KEEP);

	/* A reload shrinks the ring at once. */
	cfg.history = 3;
	model_set_limits(m, &cfg);
	n = model_history(m, r, LINES, out);
	ck_assert_uint_eq(n, 3);
	assert_last_lines(out, n, LINES);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	/* None kept: the room has nothing to replay. */
	cfg.history = 0;
	model_set_limits(m, &cfg);
	say(m, &f[0], r, "forgotten");
	ck_assert_uint_eq(model_history(m, r, LINES, out), 0);
	teardown(m, f, 3);
}
END_TEST

/*
 * Topics.
 */

START_TEST(test_topic)
{
	struct model_config	 cfg;
	struct model		*m;
	struct fake		*f = fakes_new(4);
	struct room		*r;
	char			 buf[64], ten[11];
	size_t			 n0;
	struct rec		*e;

	config_default(&cfg);
	cfg.max_topic = 10;
	cfg.announce_max = 0;	/* a topic is told whatever the room's size */
	ck_assert_ptr_nonnull(m = model_new(&cfg));
	connect_all(m, f, 4);
	r = join(m, &f[0], "#t");
	join(m, &f[1], "#t");
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");

	ck_assert_int_eq(model_topic(m, &f[0].u, r, "Rust talk", 9, CTX),
	    M_OK);
	e = last_event(&f[1]);
	ck_assert_int_eq(e->ev->kind, EV_TOPIC);
	ck_assert_str_eq(e->ev->text, "Rust talk");
	ck_assert_str_eq(line_of(e), "-- guest1 set the topic: Rust talk");
	ck_assert_str_eq(last_line(&f[0]), "-- guest1 set the topic: Rust talk");
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "Rust talk");
	/* Cut at the caller's buffer, still terminated. */
	ck_assert_uint_eq(model_topic_get(r, buf, 5), 4);
	ck_assert_str_eq(buf, "Rust");
	join(m, &f[2], "#t");
	ck_assert_str_eq(last_joined(&f[2])->topic, "Rust talk");

	/* Too long: refused, nothing told, the old one kept. */
	n0 = f[1].n;
	memset(ten, 'y', 10);
	ten[10] = '\0';
	ck_assert_int_eq(model_topic(m, &f[0].u, r, "01234567890", 11, CTX),
	    M_TOPIC_TOO_LONG);
	ck_assert_uint_eq(f[1].n, n0);
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 9);
	ck_assert_int_eq(model_topic(m, &f[0].u, r, ten, 10, CTX), M_OK);
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, ten);
	/* Only a member sets it. */
	n0 = f[1].n;
	ck_assert_int_eq(model_topic(m, &f[3].u, r, "mine", 4, CTX),
	    M_NOT_MEMBER);
	ck_assert_uint_eq(f[1].n, n0);
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, ten);

	/* Cleared: told, and a joiner sees none. */
	ck_assert_int_eq(model_topic(m, &f[1].u, r, "", 0, CTX), M_OK);
	ck_assert_str_eq(last_line(&f[0]), "-- guest2 cleared the topic");
	ck_assert_str_eq(last_line(&f[2]), "-- guest2 cleared the topic");
	ck_assert_uint_eq(last_event(&f[2])->ev->text_len, 0);
	ck_assert_uint_eq(model_topic_get(r, buf, sizeof(buf)), 0);
	join(m, &f[3], "#t");
	ck_assert_ptr_null(last_joined(&f[3])->topic);
	teardown(m, f, 4);
}
END_TEST

/*
 * What spans rooms: told once to each, however many rooms are shared.
 */

START_TEST(test_nick_once_across_rooms)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(5);
	struct room	*a, *b, *c;
	const char	*why;
	size_t		 n[5], i;
	struct rec	*e;

	connect_all(m, f, 5);
	/* f0 in lobby, #a, #b; f1 too; f2 in #b; f3 in #c; f4 in lobby. */
	a = join(m, &f[0], "#a");
	b = join(m, &f[0], "#b");
	join(m, &f[1], "#a");
	join(m, &f[1], "#b");
	join(m, &f[2], "#b");
	c = join(m, &f[3], "#c");
	leave_lobby(m, &f[2]);
	leave_lobby(m, &f[3]);
	(void)a;
	(void)c;
	for (i = 0; i < 5; i++)
		n[i] = f[i].n;
	ck_assert_int_eq(model_nick(m, &f[0].u, "alice", 5, &why, CTX), M_OK);
	ck_assert_uint_eq(count_kind(&f[0], n[0], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[1], n[1], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[2], n[2], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[3], n[3], EV_NICK), 0);
	ck_assert_uint_eq(count_kind(&f[4], n[4], EV_NICK), 1);
	e = last_event(&f[2]);
	ck_assert_ptr_eq(e->room, b);
	ck_assert_str_eq(line_of(e), "-- guest1 is now known as alice");
	ck_assert_uint_ne(e->ev->group, 0);

	/* The next rename is news again. */
	for (i = 0; i < 5; i++)
		n[i] = f[i].n;
	ck_assert_int_eq(model_nick(m, &f[0].u, "al", 2, &why, CTX), M_OK);
	ck_assert_uint_eq(count_kind(&f[0], n[0], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[1], n[1], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[2], n[2], EV_NICK), 1);
	ck_assert_uint_eq(count_kind(&f[4], n[4], EV_NICK), 1);
	/* Which shared room's copy it is, is the model's choice. */
	ck_assert(strstr(last_line(&f[1]), "-- alice is now known as al") !=
	    NULL);

	/* In no room at all: told to itself alone, with no room. */
	part(m, &f[3], c);
	for (i = 0; i < 5; i++)
		n[i] = f[i].n;
	ck_assert_uint_eq(f[3].u.nrooms, 0);
	ck_assert_int_eq(model_nick(m, &f[3].u, "hermit", 6, &why, CTX), M_OK);
	ck_assert_uint_eq(count_kind(&f[3], n[3], EV_NICK), 1);
	e = last_event(&f[3]);
	ck_assert_ptr_null(e->room);
	ck_assert_str_eq(line_of(e), "-- guest4 is now known as hermit");
	for (i = 0; i < 5; i++)
		if (i != 3)
			ck_assert_uint_eq(f[i].n, n[i]);
	teardown(m, f, 5);
}
END_TEST

START_TEST(test_quit_in_each_room)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(4);
	struct room	*b, *solo;
	size_t		 n[4], i, rooms, users;

	connect_all(m, f, 4);
	join(m, &f[0], "#a");
	b = join(m, &f[0], "#b");
	solo = join(m, &f[0], "#solo");
	(void)solo;
	join(m, &f[1], "#a");
	join(m, &f[1], "#b");
	join(m, &f[2], "#b");
	leave_lobby(m, &f[2]);
	join(m, &f[3], "#elsewhere");
	leave_lobby(m, &f[3]);
	for (i = 0; i < 4; i++)
		n[i] = f[i].n;
	rooms = model_rooms_count(m);
	users = model_users_count(m);

	model_disconnect(m, &f[0].u, "bye", 3, CTX);
	ck_assert_uint_eq(f[0].u.nrooms, 0);
	ck_assert_uint_eq(f[0].n, n[0]);	/* told nothing itself */
	/* Told in each room concerned: it shared #lobby, #a and #b. */
	ck_assert_uint_eq(count_kind(&f[1], n[1], EV_QUIT), 3);
	ck_assert_uint_eq(f[1].n, n[1] + 3);
	ck_assert_uint_eq(count_kind(&f[2], n[2], EV_QUIT), 1);
	ck_assert_str_eq(last_line(&f[2]), "-- guest1 left (bye)");
	ck_assert_ptr_eq(last_event(&f[2])->room, b);
	ck_assert_uint_eq(f[3].n, n[3]);
	ck_assert_uint_eq(model_users_count(m), users - 1);
	/* #solo had only it and no history. */
	ck_assert_uint_eq(model_rooms_count(m), rooms - 1);
	ck_assert(!room_listed(m, "#solo"));
	ck_assert_uint_eq(room_members(b), 2);
	/* Its nick is free. */
	ck_assert_int_eq(model_nick(m, &f[3].u, "guest1", 6,
	    &(const char *){ NULL }, CTX), M_OK);

	/* No reason: the bare form.  Twice: harmless. */
	n[2] = f[2].n;
	model_disconnect(m, &f[1].u, NULL, 0, CTX);
	ck_assert_str_eq(last_line(&f[2]), "-- guest2 left");
	ck_assert_uint_eq(f[2].n, n[2] + 1);
	model_disconnect(m, &f[1].u, NULL, 0, CTX);
	ck_assert_uint_eq(f[2].n, n[2] + 1);
	ck_assert_uint_eq(model_users_count(m), users - 2);
	teardown(m, f, 4);
}
END_TEST

START_TEST(test_private)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(3);
	char		 to[NICK_MAX_BYTES + 1];
	size_t		 n[3], i;
	struct rec	*e;

	connect_all(m, f, 3);
	join(m, &f[1], "#other");	/* its current room is not the lobby */
	ck_assert_int_eq(model_nick(m, &f[1].u, "Bob", 3,
	    &(const char *){ NULL }, CTX), M_OK);
	for (i = 0; i < 3; i++)
		n[i] = f[i].n;
	ck_assert_int_eq(model_private(m, &f[0].u, "BOB", 3, "psst", 4, to,
	    CTX), M_OK);
	ck_assert_str_eq(to, "Bob");
	ck_assert_uint_eq(f[1].n, n[1] + 1);
	e = last_event(&f[1]);
	ck_assert_int_eq(e->ev->kind, EV_PRIVATE);
	ck_assert_ptr_null(e->room);
	ck_assert(!e->labelled);
	ck_assert_str_eq(e->ev->nick, "guest1");
	ck_assert_str_eq(e->ev->room, "Bob");
	ck_assert_str_eq(line_of(e), "*guest1* psst");
	/* The sender's echo is the front-end's: the model tells no one else. */
	ck_assert_uint_eq(f[0].n, n[0]);
	ck_assert_uint_eq(f[2].n, n[2]);

	/* To someone in no room. */
	part(m, &f[2], lobby_of(&f[2]));
	n[2] = f[2].n;
	ck_assert_int_eq(model_private(m, &f[0].u, "guest3", 6, "hi", 2, to,
	    CTX), M_OK);
	ck_assert_uint_eq(f[2].n, n[2] + 1);
	ck_assert_str_eq(last_line(&f[2]), "*guest1* hi");

	for (i = 0; i < 3; i++)
		n[i] = f[i].n;
	ck_assert_int_eq(model_private(m, &f[0].u, "carol", 5, "hi", 2, to,
	    CTX), M_NO_SUCH_NICK);
	ck_assert_int_eq(model_private(m, &f[0].u, "Bo", 2, "hi", 2, to,
	    CTX), M_NO_SUCH_NICK);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(f[i].n, n[i]);
	teardown(m, f, 3);
}
END_TEST

/*
 * --cluster's hooks, faked: what another node holds, what was sent
 * away, and whether NATS is there.
 */
static int	 fake_claim_rc;		/* M_OK: the cluster's answer */
static char	 fake_sent[64];		/* what the hooks were given */

static int
fake_claim(void *arg, struct user *u, const char *nick, size_t len)
{
	/* Another node's users hold guest1 and guest2. */
	if (fake_claim_rc == M_OK && len == 6 &&
	    (memcmp(nick, "guest1", 6) == 0 || memcmp(nick, "guest2", 6) == 0))
		return M_NICK_TAKEN;
	return fake_claim_rc;
}

static int
fake_message(void *arg, struct user *u, enum event_kind kind,
    const char *to, size_t to_len, const char *text, size_t len)
{
	if (to_len != 3 || memcmp(to, "far", 3) != 0)
		return M_NO_SUCH_NICK;
	snprintf(fake_sent, sizeof(fake_sent), "%d %.*s", (int)kind,
	    (int)len, text);
	return M_OK;
}

static int
fake_topic(void *arg, struct user *u, struct room *r, const char *text,
    size_t len)
{
	snprintf(fake_sent, sizeof(fake_sent), "topic %.*s", (int)len, text);
	return M_OK;
}

/*
 * With --cluster: guest names another node holds are skipped, none is
 * given while NATS is away; a private line to a nick held by no user
 * here goes to the cluster, and one from another node reaches only the
 * user with its id and name; a topic is set when ordered, not before.
 */
START_TEST(test_cluster_hooks)
{
	struct model		*m = model_default();
	struct fake		*f = fakes_new(2);
	struct model_cluster	 mc;
	struct event		*ev;
	char			 to[NICK_MAX_BYTES + 1], topic[64];
	size_t			 n;

	memset(&mc, 0, sizeof(mc));
	mc.claim = fake_claim;
	mc.message = fake_message;
	mc.topic = fake_topic;
	model_set_cluster(m, &mc);
	fake_claim_rc = M_OK;
	fake_connect(m, &f[0]);
	ck_assert_str_eq(f[0].u.nick, "guest3");
	ck_assert(f[0].u.nick_claimed);
	fake_claim_rc = M_UNREACHABLE;
	ck_assert_int_eq(model_connect(m, &f[1].u, CTX), M_UNREACHABLE);
	ck_assert(!f[1].u.registered);
	ck_assert_uint_eq(f[1].u.nrooms, 0);
	ck_assert_uint_eq(model_users_count(m), 1);

	fake_sent[0] = '\0';
	ck_assert_int_eq(model_private(m, &f[0].u, "far", 3, "psst", 4, to,
	    CTX), M_OK);
	ck_assert_str_eq(to, "far");
	snprintf(topic, sizeof(topic), "%d psst", (int)EV_PRIVATE);
	ck_assert_str_eq(fake_sent, topic);
	ck_assert_int_eq(model_private(m, &f[0].u, "near", 4, "x", 1, to,
	    CTX), M_NO_SUCH_NICK);

	n = f[0].n;
	ck_assert_int_eq(model_private_to(m, f[0].u.id + 1, EV_PRIVATE,
	    "guest3", 6, "far", 3, "not you", 7, 1, CTX), M_NO_SUCH_NICK);
	ck_assert_int_eq(model_private_to(m, f[0].u.id, EV_PRIVATE,
	    "guest4", 6, "far", 3, "not you", 7, 1, CTX), M_NO_SUCH_NICK);
	ck_assert_uint_eq(f[0].n, n);
	ck_assert_int_eq(model_private_to(m, f[0].u.id, EV_PRIVATE,
	    "GUEST3", 6, "far", 3, "for you", 7, 1, CTX), M_OK);
	ck_assert_uint_eq(f[0].n, n + 1);
	ck_assert_str_eq(last_line(&f[0]), "*far* for you");

	ck_assert_int_eq(model_topic(m, &f[0].u, lobby_of(&f[0]), "news", 4,
	    CTX), M_OK);
	ck_assert_str_eq(fake_sent, "topic news");
	ck_assert_uint_eq(model_topic_get(lobby_of(&f[0]), topic,
	    sizeof(topic)), 0);
	ck_assert_ptr_nonnull(ev = event_new(EV_TOPIC, 5, 1, "#lobby", 6,
	    "far", 3, "news", 4));
	ck_assert_int_eq(model_ordered(m, ev, CTX), M_OK);
	event_unref(ev);
	ck_assert_uint_eq(model_topic_get(lobby_of(&f[0]), topic,
	    sizeof(topic)), 4);
	ck_assert_str_eq(topic, "news");
	ck_assert_str_eq(last_line(&f[0]), "-- far set the topic: news");
	teardown(m, f, 2);
}
END_TEST

START_TEST(test_forget)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(2);
	struct room	*a, *lobby;
	size_t		 n1, rooms;

	connect_all(m, f, 2);
	lobby = lobby_of(&f[0]);
	a = join(m, &f[0], "#a");
	join(m, &f[1], "#a");
	join(m, &f[0], "#alone");
	n1 = f[1].n;
	rooms = model_rooms_count(m);
	model_forget(m, &f[0].u);
	ck_assert_uint_eq(f[1].n, n1);
	ck_assert_uint_eq(f[0].u.nrooms, 0);
	ck_assert(!f[0].u.registered);
	ck_assert_uint_eq(model_users_count(m), 1);
	ck_assert_uint_eq(model_rooms_count(m), rooms - 1);
	ck_assert_uint_eq(room_members(a), 1);
	ck_assert_uint_eq(room_members(lobby), 1);
	/* Its nick is free. */
	ck_assert_int_eq(model_nick(m, &f[1].u, "guest1", 6,
	    &(const char *){ NULL }, CTX), M_OK);
	teardown(m, f, 2);
}
END_TEST

/* A user speaks only where it is a member. */
START_TEST(test_say_not_member)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(2);
	struct room	*a;
	struct event	*ev, *h;
	size_t		 n0;

	connect_all(m, f, 2);
	a = join(m, &f[0], "#a");
	n0 = f[0].n;
	ev = mkev(&f[1], a, EV_SAY, "let me in", true);
	ck_assert_int_eq(model_say(m, &f[1].u, a, &ev, 1, CTX), M_NOT_MEMBER);
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(ev->seq, 0);
	ck_assert_uint_eq(model_history(m, a, 1, &h), 0);
	event_unref(ev);
	teardown(m, f, 2);
}
END_TEST

/*
 * Without memory a connect or a join is refused and leaves nothing
 * behind; a part still happens, its notice lost.
 */
START_TEST(test_nomem)
{
	struct model	*m = model_default();
	struct fake	*f = fakes_new(2);
	struct room	*lobby;
	size_t		 n0;

	fake_connect(m, &f[0]);
	lobby = lobby_of(&f[0]);
	n0 = f[0].n;
	fault_arm(FAULT_JOIN, 1);
	ck_assert_int_eq(model_connect(m, &f[1].u, CTX), M_NOMEM);
	ck_assert(!f[1].u.registered);
	ck_assert_uint_eq(f[1].u.nrooms, 0);
	ck_assert_uint_eq(f[1].n, 0);
	ck_assert_uint_eq(f[0].n, n0);
	ck_assert_uint_eq(model_users_count(m), 1);
	ck_assert_uint_eq(room_members(lobby), 1);
	fake_connect(m, &f[1]);
	ck_assert_uint_eq(model_users_count(m), 2);

	/* A room made for a join that failed goes again. */
	fault_arm(FAULT_JOIN, 1);
	ck_assert_int_eq(join_rc(m, &f[0], "#new", NULL), M_NOMEM);
	ck_assert_uint_eq(model_rooms_count(m), 1);
	ck_assert_ptr_null(model_joined(&f[0].u, "#new", 4));
	ck_assert_uint_eq(f[0].u.nrooms, 1);

	n0 = f[0].n;
	fault_arm(FAULT_MSG, 1);
	ck_assert_int_eq(model_part(m, &f[1].u, lobby, "bye", 3, CTX), M_OK);
	fault_arm(FAULT_MSG, 0);
	ck_assert_uint_eq(f[1].u.nrooms, 0);
	ck_assert_uint_eq(room_members(lobby), 1);
	ck_assert_uint_eq(f[0].n, n0);
	teardown(m, f, 2);
}
END_TEST

/*
 * Three rooms at once, two threads talking into each, members in one or
 * two of them: in each room every member sees one order.
 */
START_TEST(test_multi_room_parallel)
{
	enum { ROOMS = 3, PER_ROOM = 2, SENDERS = ROOMS * PER_ROOM,
	    LISTENERS = 6, PER = 1500, N = SENDERS + LISTENERS };
	static const char *const names[ROOMS] = { "#r0", "#r1", "#r2" };
	struct model	*m = model_default();
	struct fake	*f = fakes_new(N), *mp[N];
	struct sender	 s[SENDERS];
	struct room	*r[ROOMS];
	size_t		 start[N], from[N], i, k, nm, total = 0;
	struct rec	**v;

	connect_all(m, f, N);
	for (i = 0; i < N; i++)
		leave_lobby(m, &f[i]);
	for (i = 0; i < SENDERS; i++) {
		r[i / PER_ROOM] = join(m, &f[i], names[i / PER_ROOM]);
		s[i] = (struct sender){ m, &f[i], r[i / PER_ROOM], (int)i, PER,
		    1 + (int)i % 3 };
	}
	/* Listener L is in room L / 2, and odd ones in the next as well. */
	for (i = 0; i < LISTENERS; i++) {
		join(m, &f[SENDERS + i], names[i / 2]);
		if (i % 2)
			join(m, &f[SENDERS + i], names[(i / 2 + 1) % ROOMS]);
	}
	for (i = 0; i < N; i++)
		start[i] = f[i].n;
	run_senders(s, SENDERS);

	for (k = 0; k < ROOMS; k++) {
		nm = 0;
		for (i = 0; i < N; i++)
			if (model_joined(&f[i].u, names[k], 3) != NULL) {
				mp[nm] = &f[i];
				from[nm++] = start[i];
			}
		ck_assert_uint_ge(nm, PER_ROOM + 2);
		ck_assert_uint_eq(nm, room_members(r[k]));
		total += assert_room_order(mp, nm, from, r[k], s, SENDERS);
	}
	ck_assert_uint_eq(total, SENDERS * PER);
	/* A listener in two rooms: the one not current is labelled. */
	for (i = 0; i < LISTENERS; i += 2) {
		struct fake *two = &f[SENDERS + i + 1];

		ck_assert_uint_eq(room_events(two, start[SENDERS + i + 1],
		    r[i / 2], &v), PER_ROOM * PER);
		ck_assert(v[0]->labelled);
		ck_assert(strncmp(line_of(v[0]), names[i / 2], 3) == 0);
		free(v);
		ck_assert_uint_eq(room_events(two, start[SENDERS + i + 1],
		    r[(i / 2 + 1) % ROOMS], &v), PER_ROOM * PER);
		ck_assert(!v[0]->labelled);
		ck_assert(line_of(v[0])[0] == '<');
		free(v);
	}
	teardown(m, f, N);
}
END_TEST

static Suite *
model_suite(void)
{
	Suite	*s = suite_create("model");
	TCase	*tc = tcase_create("core");
	TCase	*tt = tcase_create("threads");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_connect_names_and_announces);
	tcase_add_test(tc, test_announce_max);
	tcase_add_test(tc, test_nick_rules);
	tcase_add_test(tc, test_nick_any_seed);
	tcase_add_test(tc, test_who);
	tcase_add_test(tc, test_shared_not_copied);
	tcase_add_test(tc, test_rooms_apart);
	tcase_add_test(tc, test_member_of_two_rooms);
	tcase_add_test(tc, test_join_limits);
	tcase_add_test(tc, test_room_name_spelling);
	tcase_add_test(tc, test_room_lifetime);
	tcase_add_test(tc, test_replay_on_join);
	tcase_add_test(tc, test_history_bounds);
	tcase_add_test(tc, test_topic);
	tcase_add_test(tc, test_nick_once_across_rooms);
	tcase_add_test(tc, test_quit_in_each_room);
	tcase_add_test(tc, test_private);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_cluster_hooks);
	tcase_add_test(tc, test_say_not_member);
	tcase_add_test(tc, test_nomem);
	suite_add_tcase(s, tc);

	/* Slow under a sanitizer: TSan runs them at a tenth of the speed. */
	tcase_set_timeout(tt, 300);
	tcase_add_test(tt, test_total_order);
	tcase_add_test(tt, test_batches_stay_together);
	tcase_add_test(tt, test_multi_room_parallel);
	suite_add_tcase(s, tt);
	return s;
}

int
main(void)
{
	return check_run(model_suite());
}
