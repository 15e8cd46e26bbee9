import { DATA_STRATEGIES, FORMAT_NAMES, PROVIDER_PROFILES } from '../format/index.js'

/* Help texts, kept apart from the commands so `--help` loads no server code. */

export const PROGRAM_HELP = `Usage: kiln-export <command> [options]

Kiln fine-tuning datasets as JSONL, byte for byte like Kiln's dataset_formatter: the same core as
the HTTP service, straight from a Kiln project folder.

Commands:
  export     Export one split of a dataset split as JSONL (stdout, or a file with -o)
  job        Run an export job on a running server (POST /exports), wait for it, download it
  list       List the dataset splits of a Kiln project folder
  serve      Start the HTTP service (Swagger UI at /docs)
  validate   Check a dataset split before training: problems, provider rules, tokens, cost
  worker     Run export jobs (POST /exports) from the Redis queue, without an HTTP server

Options:
  -h, --help      Show this help; \`kiln-export <command> --help\` for a command's options
  -v, --version   Print the version

Examples:
  kiln-export list --project examples/kiln-project
  kiln-export export --project examples/kiln-project --dataset 150621256807 --split train \\
    --format openai_chat_jsonl --system-message 'Write a one-line joke about the topic.' -o train.jsonl

Exit status: 0 ok; 1 data error (Kiln's message and the run ids on stderr); 2 usage error.
`

export const EXPORT_HELP = `Usage: kiln-export export --project DIR --dataset ID --split NAME --format FORMAT
         (--system-message TEXT | --system-message-file FILE) [options]

Export one split of a dataset split of a Kiln project as JSONL, byte for byte what Kiln's
dataset_formatter writes. Every run is checked before the first byte is written: on a data
error nothing is written and the offending run ids are printed.

Options:
  --project DIR                 A Kiln project folder (holds project.kiln) or a folder of project folders
  --dataset ID                  The dataset split id (see \`kiln-export list\`)
  --split NAME                  The split to export: a key of split_contents, e.g. train (case-sensitive)
  --format FORMAT               ${FORMAT_NAMES.join(',\n                                ')}
  --strategy STRATEGY           ${DATA_STRATEGIES.map((s) => s === 'final_only' ? `${s} (default)` : s).join(',\n                                ')}
  --system-message TEXT         The system message of every example (may be empty)
  --system-message-file FILE    Read the system message from FILE (UTF-8; one final newline is dropped)
  --thinking-instructions TEXT  Needed with final_and_intermediate when a run has thinking data, and
                                with two_message_cot; refused with final_and_intermediate_r1_compatible
                                and final_and_intermediate_reasoning_field (the OpenAI formats only:
                                the thinking goes in reasoning_content, for Fireworks and Together)
  --no-tool-calls               Leave each run's trace (tool calls and responses) out of its line
                                (needed with bedrock_conversation_jsonl when traces have tool calls)
  --tools FILE                  OpenAI tool definitions (a JSON array) for every line, instead of
                                each run's run-config tools
  --pair-by RULE                Preference formats only: repair (default: a run's repaired output
                                over its output) or rating (also the highest- over the lowest-rated
                                run of each input); runs in no pair are skipped and counted
  -o, --output FILE             Write FILE instead of stdout: a temp file in the same folder, renamed
                                over FILE once the whole export is written (never a partial file)
  -h, --help                    Show this help

Exit status: 0 exported; 1 the data was refused (Kiln's message and the run ids on stderr) or
writing failed; 2 usage error; 130 interrupted.
`

export const JOB_HELP = `Usage: kiln-export job --server URL --dataset ID --split NAME --format FORMAT
         (--system-message TEXT | --system-message-file FILE) (-o FILE | --no-download) [options]

Run an export job on a running kiln-export server (POST /exports): the server checks every run
and writes the JSONL to its result store; this command waits for it (progress on a terminal),
then downloads the file to FILE (via FILE.partial, resumed when it is there from an earlier try;
the whole file's SHA-256 is checked before the rename) and prints the job id, lines, bytes,
SHA-256 and where the file is. The same request over the same data is the same job: running
the command again waits for the job an interrupted run left and resumes its download.

Options:
  --server URL                  The server (KILN_EXPORT_URL), e.g. http://127.0.0.1:3000 (required)
  --token TOKEN                 The server's API_TOKEN, sent as a bearer token (KILN_EXPORT_TOKEN)
  --dataset ID                  The dataset split id, on the server (its mounted projects)
  --split NAME                  The split to export (case-sensitive)
  --format FORMAT               A format, as for \`kiln-export export\` (see its --help)
  --strategy STRATEGY           ${DATA_STRATEGIES.join(', ')} (default: final_only)
  --system-message TEXT         The system message of every example (may be empty)
  --system-message-file FILE    Read the system message from FILE (UTF-8; one final newline is dropped)
  --thinking-instructions TEXT  Thinking instructions, as for \`export\`
  --no-tool-calls               Leave each run's trace (tool calls and responses) out of its line
  --tools FILE                  OpenAI tool definitions (a JSON array) for every line
  --pair-by RULE                Preference formats only: repair (default) or rating
  -o, --output FILE             Download the result to FILE (required unless --no-download)
  --no-download                 Do not download: print the job and its file's URL once it is done
  --interval SECONDS            How often to ask the server for the job's state (default 1)
  --cancel-on-interrupt         On Ctrl-C (SIGINT/SIGTERM), cancel the job (DELETE /exports/{id});
                                without it, Ctrl-C stops waiting and the job keeps running
  -h, --help                    Show this help

Exit status: 0 done (and downloaded); 1 the job failed (the server's message, code and run ids on
stderr), the server cannot be reached or the download failed; 2 usage error (a 400/401 answer
too); 130 interrupted.
`

export const LIST_HELP = `Usage: kiln-export list --project DIR [--json]

List the dataset splits of the Kiln projects in DIR: id, name, project, task, and the split
names with their run counts.

Options:
  --project DIR   A Kiln project folder (holds project.kiln) or a folder of project folders
  --json          Print JSON instead of a table: {"datasets": [...]}, as GET /datasets answers
  -h, --help      Show this help

Exit status: 0 listed (an empty list too); 2 usage error.
`

export const SERVE_HELP = `Usage: kiln-export serve [--project DIR] [--port PORT] [--host HOST]

Start the HTTP service, exactly as \`npm start\` does: the configuration comes from the
environment (see the README's Configuration table); these options override it.

Options:
  --project DIR   Kiln projects to serve (KILN_PROJECTS_DIR; default: the example project)
  --port PORT     TCP port (PORT; default 3000, 0 picks a free one)
  --host HOST     Interface to bind (HOST; default 127.0.0.1, 0.0.0.0 in a container)
  -h, --help      Show this help

SIGTERM/SIGINT stop it gracefully (running exports may finish within SHUTDOWN_GRACE_MS).
Exit status: 0 stopped; 2 invalid configuration or usage error.
`

export const VALIDATE_HELP = `Usage: kiln-export validate --project DIR --dataset ID --format FORMAT [options]

Check a dataset split before training, without exporting it: the same report as
POST /datasets/{id}/validate (per-run problems, provider rules, token counts, estimated cost).

Options:
  --project DIR                 a Kiln project folder, or a folder of project folders (required)
  --dataset ID                  the dataset split id (required)
  --format FORMAT               ${FORMAT_NAMES.join(', ')} (required)
  --split NAME                  one split (default: every split of the dataset)
  --strategy STRATEGY           ${DATA_STRATEGIES.join(', ')} (default: final_only)
  --system-message TEXT         the system message (default: empty)
  --system-message-file F       read the system message from a file
  --thinking-instructions TEXT  thinking instructions
  --no-tool-calls               leave each run's trace out of its line
  --tools FILE                  OpenAI tool definitions (JSON array) for every line
  --pair-by RULE                preference formats: repair (default) or rating
  --profile NAME                provider profile: ${PROVIDER_PROFILES.join(', ')}
                                (default: the format's; openai is closing)
  --model NAME                  a model of the profile (prices and limits)
  --json                        print the whole report as JSON
  -h, --help                    this help

Exit status: 0 no errors (warnings allowed), 1 the report has errors or the dataset is unknown, 2 usage error.
`

export const WORKER_HELP = `Usage: kiln-export worker [--project DIR] [--concurrency N]

Run export jobs from the queue in Redis: the jobs servers accept with POST /exports. Needs
REDIS_URL (the same as the servers', and EXPORT_QUEUE if set); results go to EXPORTS_DIR (or the
bucket of EXPORTS_S3_URL), which the servers must see too. Start as many as you like, on as many
machines: each takes EXPORT_JOB_CONCURRENCY jobs at a time. The rest of the configuration comes
from the environment, as for serve (see the README's Configuration table).

Options:
  --project DIR      Kiln projects to read (KILN_PROJECTS_DIR; the servers' mount, for mounted exports)
  --concurrency N    Jobs at once (EXPORT_JOB_CONCURRENCY; default 1)
  -h, --help         Show this help

SIGTERM/SIGINT stop taking jobs; running ones finish within SHUTDOWN_GRACE_MS, or are redone by
another worker once their lock expires (EXPORT_JOB_LOCK_MS).
Exit status: 0 stopped; 2 no REDIS_URL, invalid configuration or usage error.
`
