/*
 * workq.c - the bounded work queue between the acceptor and the workers.
 *
 * A ring buffer of pointers guarded by one mutex.  Pushers wait on
 * not_full, poppers on not_empty; nobody ever spins.
 */

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "workq.h"

struct workq {
	pthread_mutex_t	  lock;
	pthread_cond_t	  not_empty;
	pthread_cond_t	  not_full;

	void		**ring;
	size_t		  capacity;
	size_t		  head;		/* next slot to pop */
	size_t		  count;
	bool		  closed;
};

static void	 workq_put(struct workq *, void *);
static void	*workq_take(struct workq *);

struct workq *
workq_new(size_t capacity)
{
	struct workq	*q;
	int		 error;

	/* A queue that can never hold an item would block every pusher. */
	if (capacity == 0 || capacity > SIZE_MAX / sizeof *q->ring) {
		errno = EINVAL;
		return NULL;
	}

	if ((q = calloc(1, sizeof *q)) == NULL)
		return NULL;
	if ((q->ring = calloc(capacity, sizeof *q->ring)) == NULL) {
		error = ENOMEM;
		goto fail_ring;
	}
	if ((error = pthread_mutex_init(&q->lock, NULL)) != 0)
		goto fail_lock;
	if ((error = pthread_cond_init(&q->not_empty, NULL)) != 0)
		goto fail_not_empty;
	if ((error = pthread_cond_init(&q->not_full, NULL)) != 0)
		goto fail_not_full;
	q->capacity = capacity;
	return q;

fail_not_full:
	pthread_cond_destroy(&q->not_empty);
fail_not_empty:
	pthread_mutex_destroy(&q->lock);
fail_lock:
	free(q->ring);
fail_ring:
	free(q);
	errno = error;
	return NULL;
}

void
workq_free(struct workq *q)
{
	if (q == NULL)
		return;
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

/* Called with the lock held and a free slot. */
static void
workq_put(struct workq *q, void *item)
{
	size_t	tail;

	tail = (q->head + q->count) % q->capacity;
	q->ring[tail] = item;
	q->count++;
}

/* Called with the lock held and at least one item. */
static void *
workq_take(struct workq *q)
{
	void	*item;

	item = q->ring[q->head];
	q->ring[q->head] = NULL;
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	return item;
}

int
workq_push(struct workq *q, void *item)
{
	/* NULL is what workq_pop() returns to say "closed". */
	assert(item != NULL);

	pthread_mutex_lock(&q->lock);
	while (q->count == q->capacity && !q->closed)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	workq_put(q, item);
	/* Every popper can use any item, so waking one is enough. */
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int
workq_trypush(struct workq *q, void *item)
{
	assert(item != NULL);

	pthread_mutex_lock(&q->lock);
	if (q->closed || q->count == q->capacity) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	workq_put(q, item);
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

size_t
workq_push_many(struct workq *q, void *const *items, size_t n)
{
	size_t	pushed = 0, batch;

	pthread_mutex_lock(&q->lock);
	while (pushed < n) {
		while (q->count == q->capacity && !q->closed)
			pthread_cond_wait(&q->not_full, &q->lock);
		if (q->closed)
			break;

		batch = 0;
		while (pushed < n && q->count < q->capacity) {
			assert(items[pushed] != NULL);
			workq_put(q, items[pushed++]);
			batch++;
		}
		/*
		 * Wake as many poppers as there are new items: a single signal
		 * would leave the others asleep while items sit in the queue.
		 */
		if (batch == 1)
			pthread_cond_signal(&q->not_empty);
		else
			pthread_cond_broadcast(&q->not_empty);
	}
	pthread_mutex_unlock(&q->lock);
	return pushed;
}

void *
workq_pop(struct workq *q)
{
	void	*item;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->count == 0) {
		/* Closed and drained. */
		pthread_mutex_unlock(&q->lock);
		return NULL;
	}
	item = workq_take(q);
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return item;
}

void
workq_close(struct workq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	/* Pushers must fail and idle poppers must see the end. */
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

size_t
workq_depth(struct workq *q)
{
	size_t	depth;

	pthread_mutex_lock(&q->lock);
	depth = q->count;
	pthread_mutex_unlock(&q->lock);
	return depth;
}
