/*
 * workq.c - a fixed pool of threads running queued jobs in order.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "workq.h"

struct job {
	struct job *next;
	workq_fn fn;
	void *arg;
};

struct workq {
	pthread_mutex_t lock;		/* guards the fields below */
	pthread_cond_t cond;		/* a job was queued, or stopping */
	struct job *head, *tail;
	bool stopping;
	int nthreads;			/* fixed after workq_new */
	pthread_t threads[];
};

static void *worker(void *arg)
{
	struct workq *q = arg;
	struct job *j;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		j = q->head;
		if (!j)
			break;		/* stopping, and nothing left */
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct workq *workq_new(int threads)
{
	struct workq *q = calloc(1, sizeof(*q) + (size_t)threads * sizeof(pthread_t));
	int i;

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0)
			break;
		q->nthreads++;
	}
	if (q->nthreads == 0) {
		workq_free(q);
		return NULL;
	}
	return q;
}

void workq_free(struct workq *q)
{
	int i;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}

int workq_add(struct workq *q, workq_fn fn, void *arg)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}
