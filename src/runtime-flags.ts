/**
 * The Node.js flags and the C library settings the service runs with: the Docker image (CMD and
 * ENV), `npm start` and the benchmark all use exactly these (test/deploy checks the first two).
 * Measured on the 100k-run export, none costs measurable speed (BENCHMARKS.md):
 *
 * --max-semi-space-size=8: V8's young generation may otherwise grow to 3 x 16 MiB under an
 *   export's allocation rate; 8 MiB semi-spaces save about 20 MiB of peak RSS.
 * --heap-growing-percent=50: after a full GC V8 lets the old generation grow up to about 4x before
 *   the next one, so promoted garbage piles up and the second export in a process peaked near
 *   200 MiB; 1.5x keeps every export near the first one's peak.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'] as const

/**
 * glibc's malloc settings (read once, when the process starts, so they must be in its environment;
 * other C libraries ignore them):
 *
 * MALLOC_ARENA_MAX=2: each thread that allocates (the run-file reader, libuv's pool, V8's helpers)
 *   otherwise gets an arena of its own, and memory freed there stays resident: about 10 MiB of the
 *   100k export's peak.
 * MALLOC_MMAP_THRESHOLD_=1048576: a block of 1 MiB or more is mapped on its own and given back to
 *   the system when freed. By default glibc raises this threshold to the largest block ever freed,
 *   so the second read of a 22 MB split file (the listing reads it first) came from the heap and
 *   stayed resident once freed: about 20 MiB of the 1M export's peak.
 */
export const SERVER_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576' } as const

/** SERVER_ENV as `NAME=value` words, for a shell command line (`npm start`). */
export const SERVER_ENV_ASSIGNMENTS = Object.entries(SERVER_ENV).map(([name, value]) => `${name}=${value}`)
