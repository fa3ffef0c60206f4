/*
 * tdxsim run IMAGE: boot a flat guest image (guest/, e.g.
 * build/guest/guest_demo.bin) in a TD and print what it says.
 *
 * Brings the module up (tests/harness, cmocka-free flavour), builds a debug
 * TD the way KVM does (td_create, td_vcpu_add per vCPU, td_load_image_path:
 * PAGE.ADD + MR.EXTEND of the image and boot parameters, td_finalize), runs
 * every vCPU (one thread each when there are several) from the reset vector
 * with TDH.VP.ENTER, printing the guest's console and each ucall, and tears
 * the TD down. A harness failure (a SEAMCALL that must succeed, a TD exit the
 * harness cannot handle) prints file:line and exits with 1 on the spot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "cli.h"

#define DEFAULT_MAX_EXITS 1000000ULL

const char cmd_run_usage[] =
	"Usage: tdxsim run IMAGE [--platform spr|emr|gnr] [--vcpus N] [--arg X]\n"
	"                        [--max-exits N]\n"
	"\n"
	"Boot the flat guest image IMAGE (a 64 KiB image built by guest/, e.g.\n"
	"build/guest/guest_demo.bin) in a debug TD: bring the module up, build the TD\n"
	"as KVM does (TDH.MNG.CREATE .. TDH.MR.FINALIZE, image added and measured), run\n"
	"its vCPUs with TDH.VP.ENTER, print the guest's console and every ucall, then\n"
	"tear the TD down.\n"
	"\n"
	"Options:\n"
	"  --platform P    platform profile: spr (default), emr or gnr\n"
	"  --vcpus N       vCPUs, 1 (default) to 16 and at most the platform's LPs;\n"
	"                  vCPU i runs on LP i, each in its own thread\n"
	"  --arg X         the 64-bit argument guest_main() receives (default 0)\n"
	"  --max-exits N   give up after N TD exits in all (default 1000000; 0: no limit)\n"
	"  -h, --help      show this help\n"
	"\n"
	"Output (stdout): 'guest console | TEXT' per console line, and per ucall\n"
	"'vCPU I: SYNC(S) args A1 .. A5 at FILE:LINE', 'vCPU I: PRINT ...',\n"
	"'vCPU I: DONE at FILE:LINE', 'vCPU I: ABORT at FILE:LINE: MESSAGE'.\n"
	"\n"
	"Exit status: 0 every vCPU reached DONE; 1 a guest ABORT, an unhandled guest\n"
	"exception, a halt before DONE, too many exits or a harness failure (file:line\n"
	"on stderr); 2 bad usage or an unreadable or malformed image.\n";

struct run {
	struct tg_vm *vm;
	unsigned n_vcpus;
	uint64_t max_exits;
	_Atomic uint64_t enters;           /* TDH.VP.ENTER calls */
	pthread_mutex_t out;               /* stdout and console_shown */
	size_t console_shown;
};

struct runner {
	struct run *r;
	struct tg_vcpu *v;
	int ok;                            /* reached DONE */
};

/* Console lines not printed yet; the caller holds r->out. */
static void console_flush(struct run *r, int all)
{
	struct tg_vm *vm = r->vm;
	pthread_mutex_lock(&vm->lock);
	size_t len = vm->console_len;
	while (r->console_shown < len) {
		const char *p = vm->console + r->console_shown;
		const char *nl = memchr(p, '\n', len - r->console_shown);
		if (!nl && !all)
			break;
		size_t n = nl ? (size_t)(nl - p) : len - r->console_shown;
		printf("guest console | %.*s\n", (int)n, p);
		r->console_shown += n + (nl ? 1 : 0);
	}
	pthread_mutex_unlock(&vm->lock);
}

static void on_seamcall(void *user, const tdxsim_seamcall_event *ev)
{
	struct run *r = user;
	if ((ev->rax_in & 0xFFFF) != TDH_VP_ENTER)
		return;
	uint64_t n = atomic_fetch_add(&r->enters, 1) + 1;
	if (r->max_exits && n > r->max_exits) {
		fflush(stdout);
		fprintf(stderr, "tdxsim: run: the guest exceeded --max-exits %llu TD exits\n",
			(unsigned long long)r->max_exits);
		fflush(stderr);
		_Exit(CLI_EXIT_FAIL);       /* other vCPU threads may still run */
	}
}

static const char *cmd_name(uint64_t cmd)
{
	switch (cmd) {
	case UCALL_NONE: return "halt";
	case UCALL_SYNC: return "SYNC";
	case UCALL_DONE: return "DONE";
	case UCALL_ABORT: return "ABORT";
	case UCALL_PRINT: return "PRINT";
	case UCALL_UNHANDLED: return "UNHANDLED";
	}
	return "?";
}

/* The file name of a ucall's __FILE__ tail. */
static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Print one ucall; returns 1 to keep running, 0 at DONE, -1 on failure. */
static int report(struct runner *rn, uint64_t cmd, struct ucall *uc)
{
	struct run *r = rn->r;
	unsigned i = rn->v->index;
	int more = 1;
	uc->file[sizeof(uc->file) - 1] = 0;
	uc->message[sizeof(uc->message) - 1] = 0;
	pthread_mutex_lock(&r->out);
	console_flush(r, 0);
	switch (cmd) {
	case UCALL_SYNC:
		printf("vCPU %u: SYNC(%llu) args %#llx %#llx %#llx %#llx %#llx at %s:%u\n", i,
		       (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
		       (unsigned long long)uc->args[2], (unsigned long long)uc->args[3],
		       (unsigned long long)uc->args[4], (unsigned long long)uc->args[5], base(uc->file), uc->line);
		break;
	case UCALL_PRINT:
		printf("vCPU %u: PRINT %s\n", i, uc->message);
		break;
	case UCALL_DONE:
		printf("vCPU %u: DONE at %s:%u\n", i, base(uc->file), uc->line);
		more = 0;
		break;
	case UCALL_ABORT:
		printf("vCPU %u: ABORT at %s:%u: %s\n", i, base(uc->file), uc->line, uc->message);
		more = -1;
		break;
	case UCALL_UNHANDLED:
		printf("vCPU %u: UNHANDLED exception %llu (error code %#llx) at RIP %#llx\n", i,
		       (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
		       (unsigned long long)uc->args[2]);
		more = -1;
		break;
	case UCALL_NONE:
		printf("vCPU %u: halted before DONE\n", i);
		more = -1;
		break;
	default:
		printf("vCPU %u: unknown ucall %llu (%s)\n", i, (unsigned long long)cmd, cmd_name(cmd));
		more = -1;
	}
	if (more < 0) {
		console_flush(r, 1);
		fflush(stdout);
		fprintf(stderr, "tdxsim: run: vCPU %u: the guest failed (%s)\n", i, cmd_name(cmd));
	}
	pthread_mutex_unlock(&r->out);
	return more;
}

static void *run_vcpu(void *p)
{
	struct runner *rn = p;
	for (;;) {
		struct ucall uc;
		memset(&uc, 0, sizeof(uc));
		uint64_t cmd = vcpu_run(rn->v, &uc);
		int more = report(rn, cmd, &uc);
		if (more == 0) {
			rn->ok = 1;
			return NULL;
		}
		if (more < 0) {
			/* Other vCPUs may wait for this one forever: stop here. */
			if (rn->r->n_vcpus > 1) {
				fflush(stdout);
				_Exit(CLI_EXIT_FAIL);
			}
			return NULL;
		}
	}
}

/* The image must be a readable regular file of GUEST_IMAGE_SIZE bytes. */
static int check_image(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		cli_error("run", "cannot open image '%s': %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int bad = fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode);
	fclose(f);
	if (bad) {
		cli_error("run", "image '%s' is not a regular file", path);
		return -1;
	}
	if (st.st_size != GUEST_IMAGE_SIZE) {
		cli_error("run", "image '%s' is %lld bytes; a guest image (guest/) is %u bytes", path,
			  (long long)st.st_size, GUEST_IMAGE_SIZE);
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	const char *image = NULL, *platform = NULL;
	uint64_t vcpus = 1, arg = 0, max_exits = DEFAULT_MAX_EXITS;
	int opts_done = 0;
	for (int i = 1; i < argc; i++) {
		const char *val;
		int r = 0;
		if (!opts_done && !strcmp(argv[i], "--")) {
			opts_done = 1;
			continue;
		}
		if (!opts_done && argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((r = cli_opt_value("run", argc, argv, &i, "--platform", &val)) > 0) {
				platform = val;
			} else if (!r && (r = cli_opt_value("run", argc, argv, &i, "--vcpus", &val)) > 0) {
				if (cli_parse_u64(val, &vcpus) || vcpus < 1 || vcpus > GUEST_MAX_VCPUS)
					return cli_usage_error("run", "--vcpus wants 1 to %u, not '%s'",
							       GUEST_MAX_VCPUS, val);
			} else if (!r && (r = cli_opt_value("run", argc, argv, &i, "--arg", &val)) > 0) {
				if (cli_parse_u64(val, &arg))
					return cli_usage_error("run", "--arg wants an unsigned 64-bit number, not '%s'",
							       val);
			} else if (!r && (r = cli_opt_value("run", argc, argv, &i, "--max-exits", &val)) > 0) {
				if (cli_parse_u64(val, &max_exits))
					return cli_usage_error("run", "--max-exits wants a number, not '%s'", val);
			} else if (r == 0) {
				return cli_usage_error("run", "unknown option '%s'", argv[i]);
			}
			if (r < 0)
				return CLI_EXIT_USAGE;
			continue;
		}
		if (image)
			return cli_usage_error("run", "unexpected argument '%s' (one IMAGE only)", argv[i]);
		image = argv[i];
	}
	if (!image)
		return cli_usage_error("run", "missing IMAGE (a guest image such as build/guest/guest_demo.bin)");
	if (platform && cli_check_platform("run", platform))
		return CLI_EXIT_USAGE;
	const tdxsim_platform *p = tdxsim_platform_find(platform ? platform : TDXSIM_DEFAULT_PLATFORM);
	if (p && vcpus > (uint64_t)p->packages * p->lps_per_package)
		return cli_usage_error("run", "--vcpus %llu: platform %s has %u LPs", (unsigned long long)vcpus,
				       p->name, p->packages * p->lps_per_package);
	if (check_image(image))
		return CLI_EXIT_USAGE;

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = platform;
	struct tsim_env env;
	tsim_env_init_cfg(&env, &cfg);          /* a failure exits 1 with file:line */

	struct run r;
	memset(&r, 0, sizeof(r));
	r.n_vcpus = (unsigned)vcpus;
	r.max_exits = max_exits;
	atomic_init(&r.enters, 0);
	pthread_mutex_init(&r.out, NULL);
	unsigned hook;
	TSIM_CHECK_OK(tdxsim_hook_seamcall(env.s, on_seamcall, &r, &hook));

	struct tg_vm *vm = td_create(&env, r.n_vcpus);
	r.vm = vm;
	struct runner rn[GUEST_MAX_VCPUS];
	memset(rn, 0, sizeof(rn));
	for (unsigned i = 0; i < r.n_vcpus; i++) {
		rn[i].r = &r;
		rn[i].v = td_vcpu_add(vm, i);
	}
	td_load_image_path(vm, image, arg);
	td_finalize(vm);
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(env.s, &info));
	printf("tdxsim run: %s in a TD (KeyID %u) on %s, %u vCPU%s, arg %#llx\n", image, vm->td.hkid,
	       info.platform->name, r.n_vcpus, r.n_vcpus == 1 ? "" : "s", (unsigned long long)arg);
	fflush(stdout);

	if (r.n_vcpus == 1) {
		run_vcpu(&rn[0]);
	} else {
		pthread_t t[GUEST_MAX_VCPUS];
		for (unsigned i = 0; i < r.n_vcpus; i++)
			TSIM_CHECK_MSG(pthread_create(&t[i], NULL, run_vcpu, &rn[i]) == 0, "pthread_create failed");
		for (unsigned i = 0; i < r.n_vcpus; i++)
			pthread_join(t[i], NULL);
	}
	console_flush(&r, 1);
	int ok = 1;
	for (unsigned i = 0; i < r.n_vcpus; i++)
		ok &= rn[i].ok;

	uint64_t enters = atomic_load(&r.enters);
	td_destroy(vm);
	tdxsim_hook_remove(env.s, hook);
	printf("tdxsim run: %s after %llu TDH.VP.ENTER calls; TD torn down\n", ok ? "DONE" : "FAILED",
	       (unsigned long long)enters);
	tsim_env_fini(&env);
	pthread_mutex_destroy(&r.out);
	if (fflush(stdout) != 0) {
		cli_error("run", "cannot write the output");
		return CLI_EXIT_FAIL;
	}
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
