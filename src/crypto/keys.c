// SPDX-License-Identifier: MIT
/* Private-key (de)serialisation for the platform's state directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto.h"

int crypto_key_to_der(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	uint8_t *buf = NULL;
	int n = i2d_PrivateKey(key, &buf);

	if (n <= 0)
		return -EIO;
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_clear_free(buf, (size_t)n);
		return -ENOMEM;
	}
	memcpy(*der, buf, (size_t)n);
	OPENSSL_clear_free(buf, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int crypto_key_from_der(const uint8_t *der, size_t len, EVP_PKEY **key)
{
	const uint8_t *p = der;

	if (len > INT32_MAX)
		return -EINVAL;
	*key = d2i_AutoPrivateKey(NULL, &p, (long)len);
	if (!*key || p != der + len) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return -EBADMSG;
	}
	return 0;
}
