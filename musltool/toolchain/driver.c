/*
 * musltool's toolchain driver: the program behind <triple>-gcc, -cc, -g++, -ar, -strip ...
 *
 * musltool builds this file once per host with `zig cc` (static, for the host ISA), copies it
 * into a toolchain's bin folder as `musltool-driver` and links every `<triple>-<tool>` name to
 * it. On each call it reads `musltool-driver.conf` beside itself, then execs the real tool:
 * no interpreter starts, so a compile costs what the compiler costs.
 *
 * The configuration, one record a line, fields separated by tabs:
 *   set      NAME VALUE            environment for the real tool (zig's cache folders)
 *   drop     FLAG                  a driver flag removed from compiler calls (zig cc rejects it)
 *   drop-link FLAG                 a flag removed from links: there it changes only how the
 *                                  compiler builds its own runtime (zig's libc). A call that
 *                                  compiles and links with such a flag is made two steps: the
 *                                  sources compiled with every flag, then the objects linked
 *   drop-ld  OPTION COUNT          a linker option removed with the COUNT values that follow it,
 *                                  from -Wl,a,b lists and -Xlinker pairs alike
 *   static   1                     links are made static (-shared links are passed through)
 *   tool     NAME compiler|plain ARGV...   the command behind `<triple>-NAME`
 *   refuse   NAME MESSAGE          `<triple>-NAME` prints MESSAGE and exits 1
 *
 * For compiler tools, @file response files are read (GCC's quoting rules), dropped flags are
 * removed with argument order kept, and -static is added to links. `-c` with several source
 * files and no -o compiles each on its own (zig cc would compile only the first: zig issue
 * 7547). MUSLTOOL_DRIVER_PRINT=1 prints the final command, one argument a line, instead of
 * running it (several commands end with an empty line each; used by the tests).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONF_NAME "musltool-driver.conf"
#define MAX_RESPONSE_DEPTH 16
#define MAX_RESPONSE_FILES 4096

struct list {
	char **items;
	size_t len, cap;
};

struct dropped_linker_option {
	char *name;
	int values;
};

static struct list drops, link_drops;
static struct dropped_linker_option *ld_drops;
static size_t ld_drop_count;
static int make_static;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "musltool-driver: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(127);
}

static void *grow(void *ptr, size_t size)
{
	void *p = realloc(ptr, size);

	if (!p)
		die("out of memory", NULL);
	return p;
}

static char *copy(const char *text, size_t len)
{
	char *s = grow(NULL, len + 1);

	memcpy(s, text, len);
	s[len] = '\0';
	return s;
}

static void push(struct list *l, char *item)
{
	if (l->len + 2 > l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		l->items = grow(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->len++] = item;
	l->items[l->len] = NULL;
}

static int contains(const struct list *l, const char *item)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], item) == 0)
			return 1;
	return 0;
}

/* Split one line on tabs, in place. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;

	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			data = grow(data, cap);
		}
		got = fread(data + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	fclose(f);
	data[len] = '\0';
	if (size)
		*size = len;
	return data;
}

static char *config_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof CONF_NAME - 1);
	char *slash;

	if (n <= 0)
		die("cannot find myself through /proc/self/exe", strerror(errno));
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash + 1, CONF_NAME);
	return path;
}

/* Loads the configuration; returns the argv prefix of `tool`, or NULL. */
static struct list *load_config(const char *tool, int *is_compiler)
{
	char *path = config_path();
	char *text = read_file(path, NULL);
	struct list *command = NULL;
	char *line, *next;

	if (!text)
		die("cannot read its configuration", path);
	for (line = text; line && *line; line = next) {
		char *fields[64];
		size_t n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		n = split_tabs(line, fields, 64);
		if (strcmp(fields[0], "set") == 0 && n == 3) {
			setenv(fields[1], fields[2], 1);
		} else if (strcmp(fields[0], "drop") == 0 && n == 2) {
			push(&drops, fields[1]);
		} else if (strcmp(fields[0], "drop-link") == 0 && n == 2) {
			push(&link_drops, fields[1]);
		} else if (strcmp(fields[0], "drop-ld") == 0 && n == 3) {
			ld_drops = grow(ld_drops, (ld_drop_count + 1) * sizeof *ld_drops);
			ld_drops[ld_drop_count].name = fields[1];
			ld_drops[ld_drop_count++].values = atoi(fields[2]);
		} else if (strcmp(fields[0], "static") == 0 && n == 2) {
			make_static = strcmp(fields[1], "1") == 0;
		} else if (strcmp(fields[0], "refuse") == 0 && n == 3 && strcmp(fields[1], tool) == 0) {
			fprintf(stderr, "%s\n", fields[2]);
			exit(1);
		} else if (strcmp(fields[0], "tool") == 0 && n >= 4 && strcmp(fields[1], tool) == 0) {
			command = grow(NULL, sizeof *command);
			*command = (struct list){ 0 };
			*is_compiler = strcmp(fields[2], "compiler") == 0;
			for (size_t i = 3; i < n; i++)
				push(command, fields[i]);
		}
	}
	return command;
}

/* GCC's response-file syntax: whitespace separates; quotes group; backslash escapes. */
static void parse_response(const char *text, struct list *out)
{
	const char *p = text;

	for (;;) {
		char *word;
		size_t len = 0, cap = 64;
		char quote = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (!*p)
			return;
		word = grow(NULL, cap);
		for (; *p; p++) {
			char c = *p;

			if (!quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'))
				break;
			if (c == '\\' && p[1]) {
				c = *++p;
			} else if (quote && c == quote) {
				quote = 0;
				continue;
			} else if (!quote && (c == '\'' || c == '"')) {
				quote = c;
				continue;
			}
			if (len + 2 > cap)
				word = grow(word, cap *= 2);
			word[len++] = c;
		}
		word[len] = '\0';
		push(out, word);
	}
}

/* Arguments with @file response files replaced by what they hold (a missing file stays). */
static void expand_responses(char **args, size_t count, struct list *out, int depth)
{
	static size_t files_read;

	for (size_t i = 0; i < count; i++) {
		char *text;
		struct list inner = { 0 };

		if (args[i][0] != '@' || depth >= MAX_RESPONSE_DEPTH) {
			push(out, args[i]);
			continue;
		}
		text = read_file(args[i] + 1, NULL);
		if (!text) {
			push(out, args[i]);
			continue;
		}
		if (++files_read > MAX_RESPONSE_FILES)
			die("too many @-files", args[i]);
		parse_response(text, &inner);
		expand_responses(inner.items, inner.len, out, depth + 1);
	}
}

static int linker_option_values(const char *option)
{
	size_t name_len = strcspn(option, "=");

	for (size_t i = 0; i < ld_drop_count; i++)
		if (strlen(ld_drops[i].name) == name_len && strncmp(ld_drops[i].name, option, name_len) == 0)
			return option[name_len] == '=' ? 0 : ld_drops[i].values;
	return -1;
}

/*
 * Whether one linker option (from -Wl, or -Xlinker) is kept. `pending` counts the values
 * of a dropped option still to come; they are dropped too, in whichever form they arrive.
 */
static int keep_linker_option(const char *option, int *pending)
{
	int values;

	if (*pending > 0) {
		(*pending)--;
		return 0;
	}
	values = linker_option_values(option);
	if (values < 0)
		return 1;
	*pending = values;
	return 0;
}

static char *filter_wl(const char *arg, int *pending)
{
	char *options = copy(arg + 4, strlen(arg + 4));
	char *kept = grow(NULL, strlen(arg) + 1);
	size_t len = 0;

	strcpy(kept, "-Wl");
	len = 3;
	for (char *option = strtok(options, ","); option; option = strtok(NULL, ",")) {
		if (!keep_linker_option(option, pending))
			continue;
		kept[len++] = ',';
		strcpy(kept + len, option);
		len += strlen(option);
	}
	free(options);
	return len > 3 ? kept : NULL;
}

static int stops_before_linking(const char *arg)
{
	static const char *const flags[] = { "-c", "-S", "-E", "-M", "-MM", "-shared", "--version",
					     "-fsyntax-only", "--compile", "--assemble", "--preprocess",
					     NULL };

	for (size_t i = 0; flags[i]; i++)
		if (strcmp(arg, flags[i]) == 0)
			return 1;
	return 0;
}

/* Returns whether the call links. */
static int compiler_arguments(char **argv, int argc, struct list *command)
{
	struct list args = { 0 };
	int pending = 0, links = 1;

	expand_responses(argv, (size_t)argc, &args, 0);
	for (size_t i = 0; i < args.len; i++)
		if (stops_before_linking(args.items[i]))
			links = 0;
	if (make_static && links)
		push(command, "-static");
	for (size_t i = 0; i < args.len; i++) {
		char *arg = args.items[i];

		if (contains(&drops, arg))
			continue;
		if (strncmp(arg, "-Wl,", 4) == 0) {
			char *kept = filter_wl(arg, &pending);

			if (kept)
				push(command, kept);
			continue;
		}
		if (strcmp(arg, "-Xlinker") == 0 && i + 1 < args.len) {
			char *option = args.items[++i];

			if (keep_linker_option(option, &pending)) {
				push(command, arg);
				push(command, option);
			}
			continue;
		}
		push(command, arg);
	}
	return links;
}

static int is_source_file(const char *arg)
{
	static const char *const suffixes[] = { ".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".s", ".S",
						".i", ".ii", ".m", NULL };
	const char *dot = strrchr(arg, '.');

	if (arg[0] == '-' || !dot)
		return 0;
	for (size_t i = 0; suffixes[i]; i++)
		if (strcmp(dot, suffixes[i]) == 0)
			return 1;
	return 0;
}

/* Positions of the source files in a `-c` command without -o, when there are several. */
static size_t separate_compiles(const struct list *command, size_t *sources, size_t max)
{
	int compile_only = 0;
	size_t count = 0;

	for (size_t i = 1; i < command->len; i++) {
		const char *arg = command->items[i];

		if (strncmp(arg, "-o", 2) == 0)
			return 0;
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--compile") == 0)
			compile_only = 1;
		else if (is_source_file(arg) && count < max)
			sources[count++] = i;
	}
	return compile_only && count > 1 ? count : 0;
}

/* The command with only the source at `keep` of the `count` listed sources. */
static struct list one_source(const struct list *command, const size_t *sources, size_t count,
			      size_t keep)
{
	struct list single = { 0 };
	size_t next = 0;

	for (size_t i = 0; i < command->len; i++) {
		if (next < count && sources[next] == i) {
			if (next++ != keep)
				continue;
		}
		push(&single, command->items[i]);
	}
	return single;
}

/*
 * Calls that link, seen argument by argument: what each one is decides whether flags dropped
 * from links can go (ONLY_LINKS), whether the call is split (COMPILES_AND_LINKS), or whether it
 * is passed on as it came (LEFT_ALONE: anything this driver does not understand for sure).
 */
enum link_shape { ONLY_LINKS, COMPILES_AND_LINKS, LEFT_ALONE };
enum role { PREFIX, OPTION, VALUE, OUTPUT, SOURCE, OBJECT };

/* Options whose value is the next argument (the gcc and clang spellings). */
static int takes_value(const char *arg)
{
	static const char *const options[] = {
		"-o", "-include", "-imacros", "-isystem", "-idirafter", "-iquote", "-iprefix",
		"-iwithprefix", "-iwithprefixbefore", "-isysroot", "-imultilib", "-Xclang", "-Xlinker",
		"-Xpreprocessor", "-Xassembler", "-MF", "-MT", "-MQ", "-MJ", "-x", "-I", "-L", "-D", "-U",
		"-T", "-z", "-u", "-e", "-l", "-B", "-G", "-target", "--target", "-arch", "-dumpbase",
		"-dumpdir", "-aux-info", "--param", "-specs", "--sysroot", NULL
	};

	for (size_t i = 0; options[i]; i++)
		if (strcmp(arg, options[i]) == 0)
			return 1;
	return 0;
}

/* Options after which a split call would not do what the call did: compiles at link time
 * (LTO), input from elsewhere, files written beside the object or the output. */
static int splits_badly(const char *arg)
{
	static const char *const prefixes[] = {
		"-x", "-flto", "-M", "-Wp,-M", "-###", "-save-temps", "-gsplit-dwarf", "--coverage",
		"-fprofile-arcs", "-ftest-coverage", "-fstack-usage", "-ftime-trace", "-fdump-",
		"-fcallgraph-info", "-fembed-bitcode", NULL
	};

	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(arg, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int has_suffix(const char *arg, const char *const *suffixes)
{
	const char *slash = strrchr(arg, '/');
	const char *dot = strrchr(slash ? slash : arg, '.');

	for (size_t i = 0; dot && suffixes[i]; i++)
		if (strcmp(dot, suffixes[i]) == 0)
			return 1;
	return 0;
}

static int is_object_file(const char *arg)
{
	static const char *const suffixes[] = { ".o", ".a", ".obj", ".lo", ".so", NULL };

	return has_suffix(arg, suffixes) || strstr(arg, ".so.") != NULL;
}

/* Each argument's role in `roles`; the call's shape returned. */
static enum link_shape link_shape(const struct list *command, size_t first, enum role *roles)
{
	int sources = 0, dropped = 0;

	for (size_t i = 0; i < command->len; i++) {
		const char *arg = command->items[i];

		roles[i] = PREFIX;
		if (i < first)
			continue;
		if (arg[0] == '-' && arg[1]) {
			if (splits_badly(arg))
				return LEFT_ALONE;
			if (strncmp(arg, "-o", 2) == 0 || strncmp(arg, "--output", 8) == 0) {
				roles[i] = OUTPUT;
				if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
					if (i + 1 >= command->len)
						return LEFT_ALONE;
					roles[++i] = OUTPUT;
				}
				continue;
			}
			roles[i] = OPTION;
			dropped += contains(&link_drops, arg);
			if (takes_value(arg)) {
				if (i + 1 >= command->len)
					return LEFT_ALONE;
				roles[++i] = VALUE;
			}
			continue;
		}
		if (is_source_file(arg)) {
			for (size_t k = first; k < i; k++)
				if (roles[k] == SOURCE && strcmp(command->items[k], arg) == 0)
					return LEFT_ALONE; /* the same source twice */
			roles[i] = SOURCE;
			sources++;
		} else if (is_object_file(arg)) {
			roles[i] = OBJECT;
		} else {
			return LEFT_ALONE; /* stdin, or an input this driver cannot name */
		}
	}
	if (!sources)
		return ONLY_LINKS;
	return dropped ? COMPILES_AND_LINKS : LEFT_ALONE;
}

static int is_link_drop(const struct list *command, const enum role *roles, size_t i)
{
	return roles[i] == OPTION && contains(&link_drops, command->items[i]);
}

static struct list without_link_drops(const struct list *command, const enum role *roles)
{
	struct list kept = { 0 };

	for (size_t i = 0; i < command->len; i++)
		if (!is_link_drop(command, roles, i))
			push(&kept, command->items[i]);
	return kept;
}

/* The temporary objects of a split call, removed on every way out (signals included). */
static char split_folder[PATH_MAX];
static struct list split_objects;
static volatile pid_t running_child;

static void remove_split_objects(void)
{
	for (size_t i = 0; i < split_objects.len; i++)
		unlink(split_objects.items[i]);
	if (split_folder[0])
		rmdir(split_folder);
}

static void on_signal(int sig)
{
	if (running_child > 0) {
		kill(running_child, sig);
		waitpid(running_child, NULL, 0);
	}
	remove_split_objects();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_command(const struct list *command, int print)
{
	int status;
	pid_t pid;

	if (print) {
		for (size_t i = 0; i < command->len; i++)
			printf("%s\n", command->items[i]);
		printf("\n");
		return 0;
	}
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		execv(command->items[0], command->items);
		die(command->items[0], strerror(errno));
	}
	running_child = pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid", strerror(errno));
	running_child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

static int run_each(const struct list *command, const size_t *sources, size_t count, int print)
{
	for (size_t k = 0; k < count; k++) {
		struct list single = one_source(command, sources, count, k);
		int status = run_command(&single, print);

		if (status)
			return status;
	}
	return 0;
}

/* A folder for the split's objects: $TMPDIR, else /tmp (as compilers do); 0 if neither. */
static int make_split_folder(int print)
{
	const char *tmp = getenv("TMPDIR");
	const char *const places[] = { tmp && *tmp ? tmp : "/tmp", "/tmp" };

	for (size_t i = 0; i < 2; i++) {
		int len = snprintf(split_folder, sizeof split_folder, "%s/musltool-driver.XXXXXX",
				   places[i]);

		if (len > 0 && (size_t)len < sizeof split_folder && (print || mkdtemp(split_folder)))
			return 1;
	}
	split_folder[0] = '\0';
	return 0;
}

/*
 * A call that compiles sources and links, with a flag dropped from links: each source is
 * compiled with every flag into a temporary object, then the objects are linked without the
 * dropped flags (zig then links the libc every other link of the ISA uses). Returns -1 when
 * no temporary folder can be made: the call then runs as it came.
 */
static int compile_then_link(const struct list *command, const enum role *roles, int print)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct list link = { 0 };
	int status = 0;

	if (!make_split_folder(print))
		return -1;
	for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
		signal(signals[i], on_signal);
	for (size_t i = 0; i < command->len; i++) {
		char *object;

		if (roles[i] != SOURCE)
			continue;
		object = grow(NULL, strlen(split_folder) + 32);
		sprintf(object, "%s/%zu.o", split_folder, split_objects.len);
		push(&split_objects, object);
	}
	for (size_t i = 0, n = 0; i < command->len && !status; i++) {
		struct list compile = { 0 };

		if (roles[i] != SOURCE)
			continue;
		for (size_t k = 0; k < command->len; k++)
			if (roles[k] == PREFIX || roles[k] == OPTION || roles[k] == VALUE || k == i)
				push(&compile, command->items[k]);
		push(&compile, "-Wno-unused-command-line-argument");
		push(&compile, "-c");
		push(&compile, "-o");
		push(&compile, split_objects.items[n++]);
		status = run_command(&compile, print);
	}
	for (size_t i = 0, n = 0; i < command->len && !status; i++) {
		if (roles[i] == SOURCE)
			push(&link, split_objects.items[n++]);
		else if (!is_link_drop(command, roles, i))
			push(&link, command->items[i]);
	}
	if (!status) {
		push(&link, "-Wno-unused-command-line-argument");
		status = run_command(&link, print);
	}
	if (!print)
		remove_split_objects();
	return status;
}

static const char *tool_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	const char *dash;

	base = base ? base + 1 : argv0;
	dash = strrchr(base, '-');
	return dash ? dash + 1 : base;
}

int main(int argc, char **argv)
{
	const char *tool = tool_name(argv[0]);
	int is_compiler = 0;
	struct list *command = load_config(tool, &is_compiler);
	const char *print = getenv("MUSLTOOL_DRIVER_PRINT");
	int printing = print && strcmp(print, "1") == 0;
	size_t first;

	if (!command)
		die("no tool configured for this name", tool);
	first = command->len;
	if (is_compiler && compiler_arguments(argv + 1, argc - 1, command)) {
		enum role *roles = grow(NULL, (command->len + 1) * sizeof *roles);
		int status;

		switch (link_shape(command, first, roles)) {
		case ONLY_LINKS:
			*command = without_link_drops(command, roles);
			break;
		case COMPILES_AND_LINKS:
			status = compile_then_link(command, roles, printing);
			if (status >= 0)
				return status;
			break;
		case LEFT_ALONE:
			break;
		}
	} else if (!is_compiler) {
		for (int i = 1; i < argc; i++)
			push(command, argv[i]);
	}
	if (is_compiler) {
		size_t *sources = grow(NULL, (command->len + 1) * sizeof *sources);
		size_t count = separate_compiles(command, sources, command->len);

		if (count)
			return run_each(command, sources, count, printing);
	}
	if (printing) {
		for (size_t i = 0; i < command->len; i++)
			printf("%s\n", command->items[i]);
		return 0;
	}
	execv(command->items[0], command->items);
	die(command->items[0], strerror(errno));
	return 127;
}
