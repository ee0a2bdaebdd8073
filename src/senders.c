/*
 * senders.c - the clients to tell when NATS refuses one of their lines
 * (senders.h).  A list under one lock: a refusal is rare, and a walk of
 * the connected users is cheap beside the outage that causes it.
 */
#include <pthread.h>
#include <stddef.h>

#include "senders.h"

static pthread_mutex_t	 senders_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sender	*senders;

void
senders_add(struct sender *s)
{
	pthread_mutex_lock(&senders_mu);
	s->prev = NULL;
	s->next = senders;
	if (senders != NULL)
		senders->prev = s;
	senders = s;
	s->listed = 1;
	pthread_mutex_unlock(&senders_mu);
}

void
senders_remove(struct sender *s)
{
	pthread_mutex_lock(&senders_mu);
	if (s->listed) {
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			senders = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		s->next = s->prev = NULL;
		s->listed = 0;
	}
	pthread_mutex_unlock(&senders_mu);
}

void
senders_failed(uint64_t id, struct wakeset *ws)
{
	static const char	 text[] = "NATS did not store a line of yours: "
				    "it was not relayed";
	struct sender		*s;

	pthread_mutex_lock(&senders_mu);
	for (s = senders; s != NULL; s = s->next)
		if (s->id == id) {
			s->tell(s->conn, text, ws);
			break;
		}
	pthread_mutex_unlock(&senders_mu);
}
