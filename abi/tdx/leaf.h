/*
 * The one list of SEAMCALL and TDCALL leaves. Everything keyed by a leaf is
 * generated from it: the enum, the name strings used in messages and traces,
 * the module's dispatch table (seam/dispatch.c), cost keys (models/) and
 * docs/abi-coverage.md.
 *
 * X(ENUM, number, "NAME", handler, versions, flags, impl)
 *   versions: bit v set = leaf version v accepted in RAX bits 23:16
 *   flags:    TDX_LEAF_F_* below
 *   impl:     IMPL when seam/leaf/<handler>.c exists (defining seam_<handler>:
 *             the prefix keeps the module's symbols apart from host code's
 *             own tdh_* wrappers), NOIMPL otherwise
 *             (the dispatcher answers NOIMPL leaves as a module without them
 *             does: TDX_OPERAND_INVALID + RAX)
 */
#ifndef TDX_LEAF_H
#define TDX_LEAF_H

/* Allowed before the module is READY (module dispatcher gate). */
#define TDX_LEAF_F_PRE_READY   0x01u
/* Allowed after TDH.SYS.SHUTDOWN. */
#define TDX_LEAF_F_POST_SHUTDOWN 0x02u
/* May return TDX_RND_NO_ENTROPY (the leaf draws random numbers). */
#define TDX_LEAF_F_RND         0x04u
/* May return TDX_KEY_GENERATION_FAILED (the leaf programs a key). */
#define TDX_LEAF_F_KEYGEN      0x08u
/* Migration leaf (out of tdxsim's scope so far). */
#define TDX_LEAF_F_MIG         0x10u
/* Takes the module's global lock: may return TDX_SYS_BUSY. */
#define TDX_LEAF_F_SYSLOCK     0x20u
/* Takes an operand lock: may return TDX_OPERAND_BUSY + operand id. */
#define TDX_LEAF_F_OPLOCK      0x40u
/* Interruptible: may stop between chunks of work with
 * TDX_INTERRUPTED_RESUMABLE when an interrupt is pending on the LP. */
#define TDX_LEAF_F_RESUMABLE   0x80u

#define TDX_PRE  TDX_LEAF_F_PRE_READY
#define TDX_RND  TDX_LEAF_F_RND
#define TDX_KEY  TDX_LEAF_F_KEYGEN
#define TDX_MIG  TDX_LEAF_F_MIG
#define TDX_SLK  TDX_LEAF_F_SYSLOCK
#define TDX_OLK  TDX_LEAF_F_OPLOCK
#define TDX_RSM  TDX_LEAF_F_RESUMABLE

#define TDX_SEAMCALL_LEAVES(X) \
	X(TDH_VP_ENTER,             0, "TDH.VP.ENTER",             tdh_vp_enter,             0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_ADDCX,            1, "TDH.MNG.ADDCX",            tdh_mng_addcx,            0x1, TDX_RND | TDX_OLK, IMPL) \
	X(TDH_MEM_PAGE_ADD,         2, "TDH.MEM.PAGE.ADD",         tdh_mem_page_add,         0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_SEPT_ADD,         3, "TDH.MEM.SEPT.ADD",         tdh_mem_sept_add,         0x3, TDX_OLK, IMPL) \
	X(TDH_VP_ADDCX,             4, "TDH.VP.ADDCX",             tdh_vp_addcx,             0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_PAGE_RELOCATE,    5, "TDH.MEM.PAGE.RELOCATE",    tdh_mem_page_relocate,    0x1, 0, NOIMPL) \
	X(TDH_MEM_PAGE_AUG,         6, "TDH.MEM.PAGE.AUG",         tdh_mem_page_aug,         0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_RANGE_BLOCK,      7, "TDH.MEM.RANGE.BLOCK",      tdh_mem_range_block,      0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_KEY_CONFIG,       8, "TDH.MNG.KEY.CONFIG",       tdh_mng_key_config,       0x1, TDX_KEY | TDX_OLK, IMPL) \
	X(TDH_MNG_CREATE,           9, "TDH.MNG.CREATE",           tdh_mng_create,           0x1, TDX_RND | TDX_OLK, IMPL) \
	X(TDH_VP_CREATE,           10, "TDH.VP.CREATE",            tdh_vp_create,            0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_RD,              11, "TDH.MNG.RD",               tdh_mng_rd,               0x3, TDX_OLK, IMPL) \
	X(TDH_MEM_RD,              12, "TDH.MEM.RD",               tdh_mem_rd,               0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_WR,              13, "TDH.MNG.WR",               tdh_mng_wr,               0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_WR,              14, "TDH.MEM.WR",               tdh_mem_wr,               0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_PAGE_DEMOTE,     15, "TDH.MEM.PAGE.DEMOTE",      tdh_mem_page_demote,      0x1, TDX_OLK, IMPL) \
	X(TDH_MR_EXTEND,           16, "TDH.MR.EXTEND",            tdh_mr_extend,            0x1, TDX_OLK, IMPL) \
	X(TDH_MR_FINALIZE,         17, "TDH.MR.FINALIZE",          tdh_mr_finalize,          0x1, TDX_OLK, IMPL) \
	X(TDH_VP_FLUSH,            18, "TDH.VP.FLUSH",             tdh_vp_flush,             0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_VPFLUSHDONE,     19, "TDH.MNG.VPFLUSHDONE",      tdh_mng_vpflushdone,      0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_KEY_FREEID,      20, "TDH.MNG.KEY.FREEID",       tdh_mng_key_freeid,       0x1, TDX_OLK, IMPL) \
	X(TDH_MNG_INIT,            21, "TDH.MNG.INIT",             tdh_mng_init,             0x1, TDX_OLK, IMPL) \
	X(TDH_VP_INIT,             22, "TDH.VP.INIT",              tdh_vp_init,              0x3, TDX_OLK, IMPL) \
	X(TDH_MEM_PAGE_PROMOTE,    23, "TDH.MEM.PAGE.PROMOTE",     tdh_mem_page_promote,     0x3, TDX_OLK, IMPL) \
	X(TDH_PHYMEM_PAGE_RDMD,    24, "TDH.PHYMEM.PAGE.RDMD",     tdh_phymem_page_rdmd,     0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_SEPT_RD,         25, "TDH.MEM.SEPT.RD",          tdh_mem_sept_rd,          0x1, TDX_OLK, IMPL) \
	X(TDH_VP_RD,               26, "TDH.VP.RD",                tdh_vp_rd,                0x3, TDX_OLK, IMPL) \
	X(TDH_MNG_KEY_RECLAIMID,   27, "TDH.MNG.KEY.RECLAIMID",    tdh_mng_key_reclaimid,    0x1, 0, IMPL) \
	X(TDH_PHYMEM_PAGE_RECLAIM, 28, "TDH.PHYMEM.PAGE.RECLAIM",  tdh_phymem_page_reclaim,  0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_PAGE_REMOVE,     29, "TDH.MEM.PAGE.REMOVE",      tdh_mem_page_remove,      0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_SEPT_REMOVE,     30, "TDH.MEM.SEPT.REMOVE",      tdh_mem_sept_remove,      0x3, TDX_OLK, IMPL) \
	X(TDH_SYS_KEY_CONFIG,      31, "TDH.SYS.KEY.CONFIG",       tdh_sys_key_config,       0x1, TDX_PRE | TDX_KEY | TDX_SLK | TDX_OLK, IMPL) \
	X(TDH_SYS_INFO,            32, "TDH.SYS.INFO",             tdh_sys_info,             0x1, TDX_PRE, IMPL) \
	X(TDH_SYS_INIT,            33, "TDH.SYS.INIT",             tdh_sys_init,             0x1, TDX_PRE | TDX_RND | TDX_SLK, IMPL) \
	X(TDH_SYS_RD,              34, "TDH.SYS.RD",               tdh_sys_rd,               0x1, TDX_PRE, IMPL) \
	X(TDH_SYS_LP_INIT,         35, "TDH.SYS.LP.INIT",          tdh_sys_lp_init,          0x1, TDX_PRE | TDX_RND | TDX_SLK, IMPL) \
	X(TDH_SYS_TDMR_INIT,       36, "TDH.SYS.TDMR.INIT",        tdh_sys_tdmr_init,        0x1, TDX_OLK, IMPL) \
	X(TDH_SYS_RDALL,           37, "TDH.SYS.RDALL",            tdh_sys_rdall,            0x1, TDX_PRE, IMPL) \
	X(TDH_MEM_TRACK,           38, "TDH.MEM.TRACK",            tdh_mem_track,            0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_RANGE_UNBLOCK,   39, "TDH.MEM.RANGE.UNBLOCK",    tdh_mem_range_unblock,    0x1, TDX_OLK, IMPL) \
	X(TDH_PHYMEM_CACHE_WB,     40, "TDH.PHYMEM.CACHE.WB",      tdh_phymem_cache_wb,      0x1, TDX_OLK | TDX_RSM, IMPL) \
	X(TDH_PHYMEM_PAGE_WBINVD,  41, "TDH.PHYMEM.PAGE.WBINVD",   tdh_phymem_page_wbinvd,   0x1, TDX_OLK, IMPL) \
	X(TDH_MEM_SEPT_WR,         42, "TDH.MEM.SEPT.WR",          tdh_mem_sept_wr,          0x1, 0, NOIMPL) \
	X(TDH_VP_WR,               43, "TDH.VP.WR",                tdh_vp_wr,                0x1, TDX_OLK, IMPL) \
	X(TDH_SYS_LP_SHUTDOWN,     44, "TDH.SYS.LP.SHUTDOWN",      tdh_sys_lp_shutdown,      0x1, TDX_PRE | TDX_LEAF_F_POST_SHUTDOWN, IMPL) \
	X(TDH_SYS_CONFIG,          45, "TDH.SYS.CONFIG",           tdh_sys_config,           0x1, TDX_PRE | TDX_SLK, IMPL) \
	X(TDH_SERVTD_BIND,         48, "TDH.SERVTD.BIND",          tdh_servtd_bind,          0x1, 0, NOIMPL) \
	X(TDH_SERVTD_PREBIND,      49, "TDH.SERVTD.PREBIND",       tdh_servtd_prebind,       0x1, 0, NOIMPL) \
	X(TDH_SYS_SHUTDOWN,        52, "TDH.SYS.SHUTDOWN",         tdh_sys_shutdown,         0x1, TDX_SLK, IMPL) \
	X(TDH_SYS_UPDATE,          53, "TDH.SYS.UPDATE",           tdh_sys_update,           0x1, TDX_PRE, NOIMPL) \
	X(TDH_EXPORT_ABORT,        64, "TDH.EXPORT.ABORT",         tdh_export_abort,         0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_BLOCKW,       65, "TDH.EXPORT.BLOCKW",        tdh_export_blockw,        0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_RESTORE,      66, "TDH.EXPORT.RESTORE",       tdh_export_restore,       0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_MEM,          68, "TDH.EXPORT.MEM",           tdh_export_mem,           0x1, TDX_MIG, NOIMPL) \
	X(TDH_SYS_DISABLE,         69, "TDH.SYS.DISABLE",          tdh_sys_disable,          0x1, TDX_PRE | TDX_LEAF_F_POST_SHUTDOWN | TDX_SLK | TDX_RSM, IMPL) \
	X(TDH_EXPORT_PAUSE,        70, "TDH.EXPORT.PAUSE",         tdh_export_pause,         0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_TRACK,        71, "TDH.EXPORT.TRACK",         tdh_export_track,         0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_STATE_IMMUTABLE, 72, "TDH.EXPORT.STATE.IMMUTABLE", tdh_export_state_immutable, 0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_STATE_TD,     73, "TDH.EXPORT.STATE.TD",      tdh_export_state_td,      0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_STATE_VP,     74, "TDH.EXPORT.STATE.VP",      tdh_export_state_vp,      0x1, TDX_MIG, NOIMPL) \
	X(TDH_EXPORT_UNBLOCKW,     75, "TDH.EXPORT.UNBLOCKW",      tdh_export_unblockw,      0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_ABORT,        80, "TDH.IMPORT.ABORT",         tdh_import_abort,         0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_END,          81, "TDH.IMPORT.END",           tdh_import_end,           0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_COMMIT,       82, "TDH.IMPORT.COMMIT",        tdh_import_commit,        0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_MEM,          83, "TDH.IMPORT.MEM",           tdh_import_mem,           0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_TRACK,        84, "TDH.IMPORT.TRACK",         tdh_import_track,         0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_STATE_IMMUTABLE, 85, "TDH.IMPORT.STATE.IMMUTABLE", tdh_import_state_immutable, 0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_STATE_TD,     86, "TDH.IMPORT.STATE.TD",      tdh_import_state_td,      0x1, TDX_MIG, NOIMPL) \
	X(TDH_IMPORT_STATE_VP,     87, "TDH.IMPORT.STATE.VP",      tdh_import_state_vp,      0x1, TDX_MIG, NOIMPL) \
	X(TDH_MIG_STREAM_CREATE,   96, "TDH.MIG.STREAM.CREATE",    tdh_mig_stream_create,    0x1, TDX_MIG, NOIMPL)

/* Leaves issued to the P-SEAMLDR (RAX bit 63 set), routed away from the module. */
#define TDX_SEAMLDR_LEAVES(X) \
	X(P_SEAMLDR_INFO,    0x8000000000000000ULL, "SEAMLDR.INFO",    seamldr_info) \
	X(P_SEAMLDR_INSTALL, 0x8000000000000001ULL, "SEAMLDR.INSTALL", seamldr_install)

/* X(ENUM, number, "NAME", handler, versions, flags, impl) */
#define TDX_TDCALL_LEAVES(X) \
	X(TDG_VP_VMCALL,          0, "TDG.VP.VMCALL",          tdg_vp_vmcall,          0x1, 0, NOIMPL) \
	X(TDG_VP_INFO,            1, "TDG.VP.INFO",            tdg_vp_info,            0x1, 0, IMPL) \
	X(TDG_MR_RTMR_EXTEND,     2, "TDG.MR.RTMR.EXTEND",     tdg_mr_rtmr_extend,     0x1, 0, IMPL) \
	X(TDG_VP_VEINFO_GET,      3, "TDG.VP.VEINFO.GET",      tdg_vp_veinfo_get,      0x1, 0, IMPL) \
	X(TDG_MR_REPORT,          4, "TDG.MR.REPORT",          tdg_mr_report,          0x1, 0, IMPL) \
	X(TDG_VP_CPUIDVE_SET,     5, "TDG.VP.CPUIDVE.SET",     tdg_vp_cpuidve_set,     0x1, 0, IMPL) \
	X(TDG_MEM_PAGE_ACCEPT,    6, "TDG.MEM.PAGE.ACCEPT",    tdg_mem_page_accept,    0x1, 0, IMPL) \
	X(TDG_VM_RD,              7, "TDG.VM.RD",              tdg_vm_rd,              0x3, 0, IMPL) \
	X(TDG_VM_WR,              8, "TDG.VM.WR",              tdg_vm_wr,              0x1, 0, IMPL) \
	X(TDG_VP_RD,              9, "TDG.VP.RD",              tdg_vp_rd,              0x1, 0, NOIMPL) \
	X(TDG_VP_WR,             10, "TDG.VP.WR",              tdg_vp_wr,              0x1, 0, NOIMPL) \
	X(TDG_SYS_RD,            11, "TDG.SYS.RD",             tdg_sys_rd,             0x1, 0, IMPL) \
	X(TDG_SYS_RDALL,         12, "TDG.SYS.RDALL",          tdg_sys_rdall,          0x1, 0, IMPL) \
	X(TDG_SERVTD_RD,         18, "TDG.SERVTD.RD",          tdg_servtd_rd,          0x1, 0, NOIMPL) \
	X(TDG_SERVTD_WR,         20, "TDG.SERVTD.WR",          tdg_servtd_wr,          0x1, 0, NOIMPL) \
	X(TDG_MR_VERIFYREPORT,   22, "TDG.MR.VERIFYREPORT",    tdg_mr_verifyreport,    0x1, 0, NOIMPL) \
	X(TDG_MEM_PAGE_ATTR_RD,  23, "TDG.MEM.PAGE.ATTR.RD",   tdg_mem_page_attr_rd,   0x1, 0, NOIMPL) \
	X(TDG_MEM_PAGE_ATTR_WR,  24, "TDG.MEM.PAGE.ATTR.WR",   tdg_mem_page_attr_wr,   0x1, 0, NOIMPL) \
	X(TDG_VP_ENTER,          25, "TDG.VP.ENTER",           tdg_vp_enter,           0x1, 0, NOIMPL) \
	X(TDG_VP_INVEPT,         26, "TDG.VP.INVEPT",          tdg_vp_invept,          0x1, 0, NOIMPL) \
	X(TDG_VP_INVVPID,        27, "TDG.VP.INVVPID",         tdg_vp_invvpid,         0x1, 0, NOIMPL)

enum tdx_seamcall_leaf {
#define TDX_LEAF_ENUM(e, n, s, fn, v, f, i) e = n,
	TDX_SEAMCALL_LEAVES(TDX_LEAF_ENUM)
	TDX_SEAMCALL_LEAF_MAX = 97
};
enum tdx_tdcall_leaf {
	TDX_TDCALL_LEAVES(TDX_LEAF_ENUM)
	TDX_TDCALL_LEAF_MAX = 28
#undef TDX_LEAF_ENUM
};

/* RAX of a SEAMCALL: leaf in 15:0, version in 23:16, 63:24 reserved (zero). */
#define TDX_LEAF_MASK        0xFFFFULL
#define TDX_VERSION_SHIFT    16
#define TDX_VERSION_MASK     0xFFULL
#define TDX_LEAF_RESERVED    0xFFFFFFFFFF000000ULL
#define TDX_SEAMLDR_BIT      (1ULL << 63)

#endif /* TDX_LEAF_H */
