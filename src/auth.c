/*
 * auth.c - a constant-time password comparison.
 */
#include <stdint.h>

#include "auth.h"

bool
auth_equal(const char *secret, size_t secret_len, const char *given,
    size_t given_len)
{
	const unsigned char	*s = (const unsigned char *)secret;
	const unsigned char	*g = (const unsigned char *)given;
	uint64_t		 diff = (uint64_t)(secret_len ^ given_len);
	size_t			 i, in;

	/*
	 * Walk the guess, not the secret.  Past the secret's end a mask,
	 * not a branch, rereads its first byte and ignores the result: the
	 * lengths differ then, which diff already holds.
	 */
	for (i = 0; i < given_len; i++) {
		in = (size_t)0 - (size_t)(i < secret_len);
		diff |= (uint64_t)((g[i] ^ s[i & in]) & (unsigned char)in);
	}
	return diff == 0;
}
