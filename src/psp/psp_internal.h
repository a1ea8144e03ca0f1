/* SPDX-License-Identifier: MIT */
/* Internals of the firmware model; only files under psp/ include it. */
#ifndef SOFTSEV_PSP_INTERNAL_H
#define SOFTSEV_PSP_INTERNAL_H

#include <pthread.h>

#include "crypto.h"
#include "psp.h"
#include "session.h"
#include "sevcert.h"

#define AMD_CERT_MAX (AMD_CERT_HDR_LEN + 3 * 512)

/* Fused at manufacture: softsev's root of trust and the chip key. */
struct psp_chip {
	EVP_PKEY *ark_key, *ask_key, *cek_key;
	uint8_t ark[AMD_CERT_MAX], ask[AMD_CERT_MAX];
	struct amd_cert ark_c, ask_c;
	struct sev_cert cek;
	uint8_t id[SEV_ID_LEN];
};

/* Non-volatile platform identity (§7): OCA, PEK, PDH and ownership. */
struct psp_nv {
	bool external; /* OCA imported by PEK_CERT_IMPORT */
	EVP_PKEY *oca_key; /* NULL when externally owned */
	EVP_PKEY *pek_key, *pdh_key;
	struct sev_cert oca, pek, pdh;
};

struct psp_guest {
	uint32_t handle;
	uint32_t policy;
	uint8_t state;
	bool active;
	uint32_t asid;
	uint8_t vek[16]; /* memory key; the XTS tweak key is derived */
	uint8_t vek_tweak[16];
	bool have_tk;
	struct sev_tk tk;
	uint8_t nonce[16];
	struct crypto_sha *ld; /* running launch digest */
	uint8_t ld_final[32];
	bool measured;
	uint8_t measure[32]; /* LAUNCH_MEASURE output, MACed into secrets */
};

struct psp {
	struct psp_config cfg;
	char *state_dir;
	pthread_mutex_t lock; /* the firmware processes one command at a time */
	int state;
	bool config_es;
	struct psp_chip chip;
	struct psp_nv nv;
	struct psp_guest **guests; /* slot i holds handle i + 1 */
	unsigned int nguests;
	uint32_t *asid_handle; /* ASID -> bound handle, 0 = none */
	uint8_t *asid_dirty; /* DEACTIVATEd (or INIT), needs DF_FLUSH */
	unsigned int ndirty;
	bool wbinvd_done;
	struct psp_fault *faults;
	unsigned int nfaults;
	unsigned int seed;
	uint64_t bytes_moved; /* by the current command, for latency */
};

/* fault.c */
int psp_fault_check(struct psp *psp, unsigned int cmd);

/* identity.c */
int psp_chip_load_or_create(struct psp *psp, char *why, size_t why_len);
int psp_nv_load(struct psp *psp, char *why, size_t why_len);
int psp_nv_save(struct psp *psp);
void psp_nv_clear(struct psp_nv *nv);
void psp_chip_clear(struct psp_chip *chip);
int psp_nv_generate(struct psp *psp, struct psp_nv *out);
int psp_pdh_generate(struct psp *psp, struct psp_nv *nv);
void psp_nv_copy(struct psp_nv *dst, const struct psp_nv *src);
int psp_nv_commit(struct psp *psp, struct psp_nv *nv);
int psp_pek_cert_cek_sign(struct psp *psp, struct sev_cert *pek, int slot);

/* platform.c — memory helpers used by every command */
uint64_t psp_pa(const struct psp *psp, uint64_t pa);
int psp_read(const struct psp *psp, const struct psp_mem *mem, uint64_t pa,
	     void *buf, size_t len);
int psp_write(const struct psp *psp, const struct psp_mem *mem, uint64_t pa,
	      const void *buf, size_t len);
/* Guest-private memory through the memory engine (VEK, §12.10). */
int psp_guest_read(const struct psp *psp, const struct psp_guest *g,
		   const struct psp_mem *mem, uint64_t pa, void *buf,
		   size_t len);
int psp_guest_write(const struct psp *psp, const struct psp_guest *g,
		    const struct psp_mem *mem, uint64_t pa, const void *buf,
		    size_t len);
int psp_platform_cmd(struct psp *psp, unsigned int cmd, void *buf,
		     const struct psp_mem *mem);

/* guest.c */
struct psp_guest *psp_guest_get(struct psp *psp, uint32_t handle);
int psp_guest_new(struct psp *psp, uint32_t policy, uint8_t state,
		  struct psp_guest **out);
void psp_guest_free(struct psp *psp, struct psp_guest *g);
void psp_guest_commit(struct psp *psp, struct psp_guest *g);
int psp_guest_share_vek(struct psp_guest *g, const struct psp_guest *from);
int psp_guest_lookup(struct psp *psp, uint32_t handle, struct psp_guest **g);
void psp_guest_drop_tk(struct psp_guest *g);
int psp_guest_cmd(struct psp *psp, unsigned int cmd, void *buf,
		  const struct psp_mem *mem);
void psp_guests_destroy_all(struct psp *psp);

/* launch.c */
int psp_launch_cmd(struct psp *psp, unsigned int cmd, void *buf,
		   const struct psp_mem *mem);
int psp_guest_start(struct psp *psp, struct psp_launch_start *b,
		    const struct psp_mem *mem, bool need_session, uint8_t state);

int psp_packet_check(const struct psp *psp, const struct psp_packet *b,
		     uint32_t max);
/* Largest transport packet the firmware accepts (fidelity.md). */
#define SEV_PACKET_MAX (2u << 20)
int psp_packet_open(struct psp *psp, const struct psp_mem *mem,
		    const struct psp_packet *b, const struct psp_guest *g,
		    uint8_t ctx, const uint8_t *measure, uint8_t *plain);

/* transport.c */
int psp_transport_cmd(struct psp *psp, unsigned int cmd, void *buf,
		      const struct psp_mem *mem);

/* dbg.c */
int psp_dbg_cmd(struct psp *psp, unsigned int cmd, void *buf,
		const struct psp_mem *mem);

static inline bool psp_aligned16(uint64_t v)
{
	return !(v & 15);
}

#endif
