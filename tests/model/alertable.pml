/*
 * The Alertable wake-up handshake of include/wintun/ring.h, with the store
 * buffers of a TSO machine (x86) modelled explicitly.
 *
 * Each thread's plain stores go into its own FIFO store buffer; a separate
 * process drains the buffers into memory at nondeterministic times.  A
 * thread's load of a variable it has buffered stores to reads the newest
 * buffered value (store forwarding), otherwise memory.  A full fence (mfence,
 * and a locked exchange) waits until the thread's buffer is empty.  This is
 * exactly the reordering that breaks Dekker's pattern: a store may become
 * visible after a later load of another variable.
 *
 *   producer (ring_sync.c wt_ring_publish/wt_ring_wake), NPKT times:
 *     store Tail = i; FENCE; if (load Alertable && xchg(Alertable, 0)) signal
 *   where the engine's signal (engine_rx.c wt_rx_publish) is an eventfd
 *   write queued as an SQE: it takes effect at the engine's next
 *   io_uring_enter, this turn or a later one (modelled as a free choice),
 *   but always before the engine sleeps (here: before the producer ends)
 *   consumer (session_client.c rx_peek_locked + wait_for_packet, and
 *   engine_tx.c wt_tx_prepare_sleep; both call wt_ring_arm):
 *     t = load Tail; not empty: consume up to t
 *     empty: store Alertable = 1; FENCE; t = load Tail;
 *            moved: disarm (Alertable = 0 if set), consume
 *            still empty: sleep until the event counter is non-zero, reset it
 *
 * Property: the consumer eventually consumes every published record
 * (ltl no_lost_wakeup), and no state is stuck with the consumer asleep (the
 * watchdog assertion at a timeout, and the invalid-end-state check).
 *
 * -DNO_PRODUCER_FENCE / -DNO_CONSUMER_FENCE remove one fence, and
 * -DNO_SUBMIT_BEFORE_SLEEP lets the producer stop with a queued signal never
 * submitted; spin must find the lost wake-up in each (tests/model/check.sh
 * checks that it does).
 */

#ifndef NPKT
#define NPKT 2
#endif
#define SB 3 /* store-buffer depth: more than any thread has pending */

byte tail = 0;      /* memory: Tail (published record count stands in for the offset) */
bit alertable = 0;  /* memory: Alertable */
byte event = 0;     /* the eventfd counter */
byte chead = 0;     /* records the consumer has taken */
bit asleep = 0;     /* the consumer is blocked on the event */
bit owed = 0;       /* a signal queued as an SQE, not submitted yet */

/* Producer's store buffer (only ever holds Tail stores). */
byte pbuf[SB];
byte pn = 0;
/* Consumer's store buffer (only ever holds Alertable stores). */
bit cbuf[SB];
byte cn = 0;

inline pstore_tail(v) { atomic { assert(pn < SB); pbuf[pn] = v; pn++ } }
inline cstore_alertable(v) { atomic { assert(cn < SB); cbuf[cn] = v; cn++ } }

/* Load with store forwarding: the newest own buffered store, else memory. */
inline cload_alertable(r) { atomic { if :: cn > 0 -> r = cbuf[cn - 1] :: else -> r = alertable fi } }

/* Pop the oldest entry of a buffer into memory. */
inline drain_p() { tail = pbuf[0]; pbuf[0] = pbuf[1]; pbuf[1] = pbuf[2]; pbuf[2] = 0; pn-- }
inline drain_c() { alertable = cbuf[0]; cbuf[0] = cbuf[1]; cbuf[1] = cbuf[2]; cbuf[2] = 0; cn-- }

/* A full fence: wait until this thread's stores are all in memory. */
#ifdef NO_PRODUCER_FENCE
#define PFENCE skip
#else
#define PFENCE (pn == 0)
#endif
/* io_uring_enter issues the queued eventfd write. */
inline submit() { atomic { owed -> event++; owed = 0 } }

#ifdef NO_CONSUMER_FENCE
#define CFENCE skip
#else
#define CFENCE (cn == 0)
#endif

active proctype memory()
{
end:	do
	:: atomic { pn > 0 -> drain_p() }
	:: atomic { cn > 0 -> drain_c() }
	od
}

active proctype producer()
{
	byte i = 0;
	bit old;

	do
	:: i < NPKT ->
		i++;
		pstore_tail(i);           /* wt_store_release(&ring->Tail, tail) */
		PFENCE;                   /* wt_full_fence() in wt_ring_wake */
		if
		:: alertable == 1 ->      /* wt_load_i32_relaxed(&ring->Alertable) */
			atomic {          /* locked xchg: a full fence, then RMW on memory */
				pn == 0;
				old = alertable;
				alertable = 0;
				if :: old -> owed = 1 :: else -> skip fi  /* wt_uring_signal */
			}
		:: else -> skip
		fi;
		if                        /* this turn's io_uring_enter, or a later one */
		:: owed -> submit()
		:: true -> skip
		fi
	:: else -> break
	od;
#ifndef NO_SUBMIT_BEFORE_SLEEP
	if                                /* the sleep's io_uring_enter submits first */
	:: owed -> submit()
	:: else -> skip
	fi
#endif
}

active proctype consumer()
{
	byte t;
	bit a;

	do
	:: chead == NPKT -> break
	:: else ->
		t = tail;                            /* wt_load_acquire(&ring->Tail) */
		if
		:: t != chead -> chead = t           /* consume */
		:: else ->
			cstore_alertable(1);         /* wt_ring_arm: Alertable = 1 */
			CFENCE;                      /* wt_full_fence() */
			t = tail;                    /* re-load Tail */
			if
			:: t != chead ->             /* moved: wt_ring_disarm, go on */
				cload_alertable(a);
				if :: a -> cstore_alertable(0) :: else -> skip fi;
				chead = t
			:: else ->                   /* still empty: poll the eventfd */
				asleep = 1;
				atomic { event > 0 -> event = 0; asleep = 0 }  /* poll + wt_event_drain */
			fi
		fi
	od
}

/* When nothing can move any more (the timeout), the consumer must not be
 * asleep with records published that it has not taken: that is the lost
 * wake-up, named as an assertion rather than a bare invalid end state. */
active proctype watchdog()
{
end:	timeout -> assert(!(asleep && tail != chead))
}

ltl no_lost_wakeup { <> (chead == NPKT) }
