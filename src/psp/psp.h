/* SPDX-License-Identifier: MIT */
/*
 * psp/ — the virtual AMD Secure Processor (non-SNP SEV firmware).
 *
 * The caller hands the firmware a command id and a command buffer in the
 * firmware's own packed layout (firmware spec §9), exactly as Linux's ccp
 * driver hands one to the PSP mailbox.  Addresses inside the buffer are
 * "system physical addresses": they are resolved through a psp_mem accessor
 * supplied with the command, after masking the C-bit.  The firmware knows
 * nothing of KVM, fds or processes.
 *
 * psp_cmd() returns the firmware status (SEV_RET_*, §2), never an errno.
 * A psp is thread-safe: commands are serialised by one firmware lock, as
 * the real PSP processes one mailbox command at a time.
 */
#ifndef SOFTSEV_PSP_H
#define SOFTSEV_PSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/psp-sev.h>

/* Firmware command ids (§3). */
enum psp_cmd_id {
	PSP_CMD_INIT = 0x01,
	PSP_CMD_SHUTDOWN = 0x02,
	PSP_CMD_FACTORY_RESET = 0x03,
	PSP_CMD_PLATFORM_STATUS = 0x04,
	PSP_CMD_PEK_GEN = 0x05,
	PSP_CMD_PEK_CSR = 0x06,
	PSP_CMD_PEK_CERT_IMPORT = 0x07,
	PSP_CMD_PDH_CERT_EXPORT = 0x08,
	PSP_CMD_PDH_GEN = 0x09,
	PSP_CMD_DF_FLUSH = 0x0A,
	PSP_CMD_DOWNLOAD_FIRMWARE = 0x0B,
	PSP_CMD_GET_ID = 0x0C,
	PSP_CMD_INIT_EX = 0x0D,
	PSP_CMD_DECOMMISSION = 0x20,
	PSP_CMD_ACTIVATE = 0x21,
	PSP_CMD_DEACTIVATE = 0x22,
	PSP_CMD_GUEST_STATUS = 0x23,
	PSP_CMD_COPY = 0x24,
	PSP_CMD_LAUNCH_START = 0x30,
	PSP_CMD_LAUNCH_UPDATE_DATA = 0x31,
	PSP_CMD_LAUNCH_UPDATE_VMSA = 0x32,
	PSP_CMD_LAUNCH_MEASURE = 0x33,
	PSP_CMD_LAUNCH_SECRET = 0x34,
	PSP_CMD_LAUNCH_FINISH = 0x35,
	PSP_CMD_ATTESTATION = 0x36,
	PSP_CMD_SEND_START = 0x40,
	PSP_CMD_SEND_UPDATE_DATA = 0x41,
	PSP_CMD_SEND_UPDATE_VMSA = 0x42,
	PSP_CMD_SEND_FINISH = 0x43,
	PSP_CMD_SEND_CANCEL = 0x44,
	PSP_CMD_RECEIVE_START = 0x50,
	PSP_CMD_RECEIVE_UPDATE_DATA = 0x51,
	PSP_CMD_RECEIVE_UPDATE_VMSA = 0x52,
	PSP_CMD_RECEIVE_FINISH = 0x53,
	PSP_CMD_DBG_DECRYPT = 0x60,
	PSP_CMD_DBG_ENCRYPT = 0x61,
};

/* Platform states (§5) and guest states (§6). */
enum psp_platform_state { PSP_UNINIT = 0, PSP_INIT = 1, PSP_WORKING = 2 };
enum psp_guest_state {
	GSTATE_UNINIT = 0,
	GSTATE_LUPDATE = 1,
	GSTATE_LSECRET = 2,
	GSTATE_RUNNING = 3,
	GSTATE_SUPDATE = 4,
	GSTATE_RUPDATE = 5,
	GSTATE_SENT = 6,
};

/* INIT flags (§9.1). */
#define PSP_INIT_FLAGS_ES (1u << 0)

/* Guest policy bits (§11). */
#define SEV_POLICY_NODBG (1u << 0)
#define SEV_POLICY_NOKS (1u << 1)
#define SEV_POLICY_ES (1u << 2)
#define SEV_POLICY_NOSEND (1u << 3)
#define SEV_POLICY_DOMAIN (1u << 4)
#define SEV_POLICY_SEV (1u << 5)
#define SEV_POLICY_API_MAJOR(p) (((p) >> 16) & 0xff)
#define SEV_POLICY_API_MINOR(p) (((p) >> 24) & 0xff)

/* Sizes of the firmware's blobs (§9, §12). */
#define SEV_CERT_LEN 0x824
#define SEV_CHAIN_LEN (3 * SEV_CERT_LEN)
#define SEV_SESSION_LEN 0x80
#define SEV_PACKET_HDR_LEN 0x34
#define SEV_MEASURE_LEN 0x30
#define SEV_ATTESTATION_LEN 0xD0
#define SEV_ID_LEN 64
#define SEV_VMSA_LEN 4096
#define SEV_SECRET_MAX 16384

#define PSP_PACKED __attribute__((packed))

/* Firmware command buffers, packed, little-endian (§9). */
struct psp_init {
	uint32_t flags;
	uint32_t reserved;
	uint64_t tmr_paddr;
	uint32_t tmr_len;
} PSP_PACKED;

struct psp_init_ex {
	uint32_t length;
	uint32_t flags;
	uint64_t tmr_paddr;
	uint32_t tmr_len;
	uint32_t reserved;
	uint64_t nv_paddr;
	uint32_t nv_len;
} PSP_PACKED;

struct psp_platform_status {
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t state;
	uint8_t owner;
	uint8_t config[3];
	uint8_t build;
	uint32_t guest_count;
} PSP_PACKED;

struct psp_addr_len {
	uint64_t address;
	uint32_t length;
} PSP_PACKED;

struct psp_pek_cert_import {
	uint64_t pek_cert_paddr;
	uint32_t pek_cert_len;
	uint32_t reserved;
	uint64_t oca_cert_paddr;
	uint32_t oca_cert_len;
} PSP_PACKED;

struct psp_pdh_cert_export {
	uint64_t pdh_cert_paddr;
	uint32_t pdh_cert_len;
	uint32_t reserved;
	uint64_t certs_paddr;
	uint32_t certs_len;
} PSP_PACKED;

struct psp_handle {
	uint32_t handle;
} PSP_PACKED;

struct psp_activate {
	uint32_t handle;
	uint32_t asid;
} PSP_PACKED;

struct psp_guest_status {
	uint32_t handle;
	uint32_t policy;
	uint32_t asid;
	uint8_t state;
} PSP_PACKED;

struct psp_copy {
	uint32_t handle;
	uint32_t length;
	uint64_t src_paddr;
	uint64_t dst_paddr;
} PSP_PACKED;

/* LAUNCH_START and RECEIVE_START share this layout. */
struct psp_launch_start {
	uint32_t handle;
	uint32_t policy;
	uint64_t dh_cert_paddr;
	uint32_t dh_cert_len;
	uint32_t reserved;
	uint64_t session_paddr;
	uint32_t session_len;
} PSP_PACKED;

/* LAUNCH_UPDATE_DATA, LAUNCH_UPDATE_VMSA and LAUNCH_MEASURE. */
struct psp_launch_update {
	uint32_t handle;
	uint32_t reserved;
	uint64_t paddr;
	uint32_t length;
} PSP_PACKED;

/* LAUNCH_SECRET, SEND_UPDATE_*, RECEIVE_UPDATE_*. */
struct psp_packet {
	uint32_t handle;
	uint32_t reserved;
	uint64_t hdr_paddr;
	uint32_t hdr_len;
	uint32_t reserved2;
	uint64_t guest_paddr;
	uint32_t guest_len;
	uint32_t reserved3;
	uint64_t trans_paddr;
	uint32_t trans_len;
} PSP_PACKED;

struct psp_attestation {
	uint32_t handle;
	uint32_t reserved;
	uint64_t paddr;
	uint8_t mnonce[16];
	uint32_t length;
} PSP_PACKED;

struct psp_send_start {
	uint32_t handle;
	uint32_t policy;
	uint64_t pdh_cert_paddr;
	uint32_t pdh_cert_len;
	uint32_t reserved;
	uint64_t plat_certs_paddr;
	uint32_t plat_certs_len;
	uint32_t reserved2;
	uint64_t amd_certs_paddr;
	uint32_t amd_certs_len;
	uint32_t reserved3;
	uint64_t session_paddr;
	uint32_t session_len;
} PSP_PACKED;

struct psp_dbg {
	uint32_t handle;
	uint32_t reserved;
	uint64_t src_paddr;
	uint64_t dst_paddr;
	uint32_t length;
} PSP_PACKED;

/* Packet header of LAUNCH_SECRET and SEND/RECEIVE (§12.7). */
struct sev_packet_hdr {
	uint32_t flags;
	uint8_t iv[16];
	uint8_t mac[32];
} PSP_PACKED;

/* Session blob (§12.4). */
struct sev_session {
	uint8_t nonce[16];
	uint8_t wrap_tk[32];
	uint8_t wrap_iv[16];
	uint8_t wrap_mac[32];
	uint8_t policy_mac[32];
} PSP_PACKED;

/*
 * Memory the firmware reaches by physical address.  read/write return 0 or
 * a negative errno; the firmware turns a failure into INVALID_ADDRESS.
 */
struct psp_mem_ops {
	int (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
};

struct psp_mem {
	const struct psp_mem_ops *ops;
	void *ctx;
};

/* A psp_mem where physical address == pointer in this process. */
extern const struct psp_mem psp_mem_direct;

/*
 * How guest-private memory is stored.  PLAIN: the guest runs on the real,
 * non-SEV KVM, so its memory holds plaintext and the VEK only matters for
 * bookkeeping (docs/fidelity.md).  XTS: memory holds AES-128-XTS ciphertext
 * under the guest's VEK with an address tweak (§12.10), as hardware does.
 */
enum psp_mem_mode { PSP_MEM_PLAIN = 0, PSP_MEM_XTS = 1 };

struct psp_config {
	uint8_t api_major, api_minor, build;
	/* CPUID 0x8000001F: ECX = max ASID, EDX = min SEV ASID (§8.1). */
	unsigned int max_asid;
	unsigned int min_sev_asid;
	bool es; /* SEV-ES supported by this platform */
	unsigned int cbit; /* C-bit position masked from every address */
	unsigned int max_guests; /* guest contexts before RESOURCE_LIMIT */
	unsigned int rsa_bits; /* ARK/ASK size: 2048 (Naples) or 4096 */
	enum psp_mem_mode mem_mode;
	/* Firmware latency: a fixed cost per command, plus per MiB moved. */
	unsigned int latency_us;
	unsigned int latency_us_per_mib;
	/* Identity lives here (0700 dir, 0600 files); NULL = volatile. */
	const char *state_dir;
};

struct psp;

/* Defaults of a Genoa-like part (API 1.55 build 0x15 — see fidelity.md). */
void psp_config_default(struct psp_config *cfg);
/* Apply a generation's model ("naples" … "turin"); -ENOENT if unknown. */
int psp_config_model(struct psp_config *cfg, const char *name);
const char *psp_model_names(void);

/*
 * Create a platform in UNINIT.  Loads the identity from cfg->state_dir, or
 * creates it on first use.  A corrupt or truncated identity file fails with
 * -EUCLEAN and *why names the file; nothing is regenerated behind the user.
 */
int psp_create(const struct psp_config *cfg, struct psp **out,
	       char *why, size_t why_len);
void psp_destroy(struct psp *psp);

/* Issue one firmware command; returns its status (SEV_RET_*). */
int psp_cmd(struct psp *psp, unsigned int cmd, void *buf,
	    const struct psp_mem *mem);

/*
 * WBINVD on every core (§8.3, §8.7 option a).  DF_FLUSH fails with
 * WBINVD_REQUIRED unless this ran after the last DEACTIVATE.
 */
void psp_wbinvd(struct psp *psp);

/*
 * The memory controller's engine, not a firmware command: with the key
 * ACTIVATE installed for asid, encrypt (or decrypt) len bytes (a multiple
 * of 16) that live at physical address pa -- the XTS tweak, C-bit masked
 * (F27) -- from in to out.  0; -EINVAL in PSP_MEM_PLAIN mode or for a
 * bad length; -ENOKEY when no guest is active on asid.
 */
int psp_mem_engine(struct psp *psp, unsigned int asid, uint64_t pa,
		   const void *in, void *out, size_t len, bool encrypt);

/* Read-only views for status displays and tests. */
struct psp_guest_info {
	uint32_t handle;
	uint32_t policy;
	uint32_t asid;
	uint8_t state;
	bool active;
	uint8_t digest[32]; /* launch digest so far, or the final one */
};

int psp_platform_state(struct psp *psp);
unsigned int psp_guest_count(struct psp *psp);
int psp_guest_info(struct psp *psp, uint32_t handle,
		   struct psp_guest_info *info);
/* Number of ASIDs waiting for a DF_FLUSH before they may be reused. */
unsigned int psp_dirty_asids(struct psp *psp);
const struct psp_config *psp_config(struct psp *psp);

/* Fault injection (what hardware cannot do): see fault.c. */
enum psp_fault_mode {
	PSP_FAULT_ALWAYS,
	PSP_FAULT_ONCE,
	PSP_FAULT_EVERY,
	PSP_FAULT_PROB,
};

struct psp_fault {
	unsigned int cmd; /* firmware command id */
	int status; /* what it returns instead */
	enum psp_fault_mode mode;
	unsigned int every;
	double p;
	unsigned int calls, fired;
};

/* "CMD=STATUS[@once|@every=N|@p=P]", names as psp_cmd_name/status_name. */
int psp_fault_parse(const char *spec, struct psp_fault *f);
int psp_fault_add(struct psp *psp, const struct psp_fault *f);
void psp_fault_clear(struct psp *psp);

/* "INVALID_LEN", "LAUNCH_START", …; "UNKNOWN" for anything else. */
const char *psp_status_name(int status);
const char *psp_cmd_name(unsigned int cmd);

/* Export softsev's own ARK and ASK (AMD format, §12.3). */
int psp_get_ark(struct psp *psp, uint8_t *buf, size_t *len);
int psp_get_ask(struct psp *psp, uint8_t *buf, size_t *len);

#endif
