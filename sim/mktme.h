/*
 * The memory-encryption engine (MKTME with TDX): one AES-128-XTS key per
 * private KeyID, programmed by the module (PCONFIG), applied to every access
 * through that KeyID.
 *
 * Model: the XTS data unit is one 4 KiB page and the tweak is the page's
 * physical address (hardware encrypts per 64-byte line; the page unit keeps
 * libcrypto's per-call cost off every line, and host-visible behaviour is the
 * same: raw RAM holds ciphertext, another KeyID reads garbage or, for a
 * shared KeyID on a TD-owned line, zeros). A partial write re-encrypts the
 * page and stores back only the lines it wrote, so other lines' ciphertext,
 * ownership and poison are untouched, as with per-line hardware.
 *
 * Each LP has a small cache of decrypted pages, validated by the page's write
 * version (phys_mem_bump) and the key's generation, so repeated accesses to
 * the same page (S-EPT walks, 16 MR.EXTENDs per page) decrypt it once.
 *
 * Lazy zeroing: sim_priv_zero does not encrypt. It marks each page "zero
 * under KeyID k" (phys_mem_lazy) and changes line states and the page
 * version as a write would; the ciphertext of zeros is computed only if
 * something needs the RAM bytes ("materialising" the page: encrypt 4 KiB of
 * zeros under k into RAM, clear the mark; no version bump, since no access
 * through any KeyID can tell). Reads through k return zeros, a partial write
 * through k starts from zeros, a full-page write drops the mark; every other
 * access to the RAM bytes materialises first: reads and partial writes
 * through another private KeyID here, raw and shared-KeyID accesses in their
 * callers through sim_mem_raw_locked / sim_mem_settle / sim_mem_host_ptr.
 * Reprogramming k's key (sim_key_program) first materialises k's lazy pages
 * under the old key, so a mark always refers to the current key.
 *
 * Lazy plaintext: a partial write through k (sim_priv_write, len < 4096)
 * does not encrypt either. The page's whole plaintext through k after the
 * write (from zeros if lazily zero under k, the LP's cache, or a decryption)
 * is kept in a lazy-plaintext slot (sim/phys_mem.h) and the page marked;
 * reads through k copy it, later partial writes through k update it, and
 * the triggers above materialise it (encrypt the buffer under k into RAM:
 * XTS blocks are independent, so lines not written since get back exactly
 * the ciphertext they had, and only TD-owned lines are ever stale, so
 * SIM_RAW_READ_MASKED needs nothing). Slots are bounded
 * (PHYS_LAZY_PLAIN_MAX); a write finding none free materialises another
 * page whose stripe lock it can take without waiting, else stays eager.
 */
#ifndef SIM_MKTME_H
#define SIM_MKTME_H

#include <stdbool.h>
#include <stdint.h>

struct tdxsim;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

#define SIM_KEY_BYTES 32                /* AES-128-XTS: data key + tweak key */
#define SIM_CRYPT_CACHE 8               /* decrypted pages cached per LP */

struct sim_keyslot {
	uint8_t key[SIM_KEY_BYTES];
	_Atomic uint32_t gen;           /* 0: never programmed; bumped per PCONFIG */
	/* Page numbers that may be lazily zero under this KeyID: [~lazy_lo_inv,
	 * lazy_hi) (zero-initialised = empty), bounding sim_key_program's scan. */
	_Atomic uint64_t lazy_lo_inv, lazy_hi;
};

struct sim_crypt_page {
	uint64_t pa;                    /* page PA, ~0 = empty */
	uint32_t keyid, gen, ver;
	uint32_t lru;
	uint8_t *data;                  /* 4 KiB of plaintext */
};

/* Per-LP crypto state: used only by the thread driving that LP. */
struct sim_crypt {
	EVP_CIPHER_CTX *enc, *dec;
	uint32_t enc_keyid, enc_gen, dec_keyid, dec_gen;
	uint32_t tick;
	struct sim_crypt_page *cache;   /* = tags, or NULL (a temporary context) */
	struct sim_crypt_page tags[SIM_CRYPT_CACHE];    /* compact: one scan touches few lines */
	uint8_t *cache_data;
	uint64_t stat_decrypts, stat_encrypts, stat_hits;
	uint64_t stat_lazy_zeros;       /* pages zeroed without encryption */
	uint64_t stat_lazy_reads;       /* page reads answered zeros without decryption */
	uint64_t stat_materialised;     /* lazy pages encrypted after all */
	uint64_t stat_lazy_writes;      /* partial writes kept as lazy plaintext, no AES */
	uint64_t stat_lazy_evictions;   /* lazy-plaintext pages materialised for room */
};

int sim_crypt_init(struct sim_crypt *cc);
void sim_crypt_fini(struct sim_crypt *cc);

/* PCONFIG: program (or replace) the key of a private KeyID. */
void sim_key_program(struct tdxsim *s, uint32_t keyid, const uint8_t key[SIM_KEY_BYTES]);
/* The KeyID has a key programmed. */
bool sim_key_valid(const struct tdxsim *s, uint32_t keyid);

/*
 * Access [pa, pa+len) through a private KeyID, as software running with that
 * KeyID (the module, or a TD) sees it. cc may be NULL (a temporary context:
 * slower, any thread). Reads return the number of poisoned lines touched (a
 * TD read of one is a machine check; the caller decides what to do).
 */
unsigned sim_priv_read(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		       void *buf, uint64_t len);
void sim_priv_write(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		    const void *buf, uint64_t len);
/* One naturally aligned u64 through a private KeyID on an LP (cc != NULL):
 * the fast path of page-table walks. Poison is not reported. */
uint64_t sim_priv_read64(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid);
/* Zero [pa, pa+len) (page aligned) through a private KeyID with MOVDIR64B:
 * lines become TD-owned, unpoisoned, holding the ciphertext of zeros
 * (lazily: see above). */
void sim_priv_zero(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint32_t keyid,
		   uint64_t len);

/*
 * Raw access to RAM of lazily zeroed pages. cc as above (NULL: a temporary
 * context). sim_mem_raw_locked: [pa, pa+len) lies in one page whose RMW
 * stripe lock the caller holds, and is about to be
 *   SIM_RAW_READ_MASKED  read through a shared KeyID (TD-owned lines then
 *                        read as zeros, and only they can be stale, so a
 *                        lazy page needs nothing),
 *   SIM_RAW_WRITE        written raw: a store covering the whole page drops
 *                        the mark (no ciphertext survives), else materialise.
 * sim_mem_settle: materialise every lazy page of [pa, pa+len), taking each
 * page's lock (before raw bytes are read, or RAM is handed to code outside
 * the model).
 * sim_mem_host_ptr: the host's view of pa (phys_mem_host_ptr) with its page
 * settled first: for pointers whose users access RAM directly.
 */
enum { SIM_RAW_READ_MASKED, SIM_RAW_WRITE };
void sim_mem_raw_locked(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint64_t len,
			int how);
void sim_mem_settle(struct tdxsim *s, struct sim_crypt *cc, uint64_t pa, uint64_t len);
void *sim_mem_host_ptr(struct tdxsim *s, uint64_t pa);

#endif
