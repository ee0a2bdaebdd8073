/*
 * auth.h - the server password, checked the same way by every
 * front-end (the line protocol's /pass, IRC's PASS).  Pure: no sockets,
 * no state.
 */
#ifndef CHATD_AUTH_H
#define CHATD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether given[0..given_len) is secret[0..secret_len), a NUL-terminated
 * string (so its first byte is always there).  The time it
 * takes depends on given_len alone, never on the secret's bytes or
 * length, so timing tells a client nothing about the password.
 */
bool	auth_equal(const char *secret, size_t secret_len, const char *given,
	    size_t given_len);

/* Delay before a client that sent a wrong password is closed. */
#define AUTH_FAIL_DELAY_MS	2000

#endif /* CHATD_AUTH_H */
