import { Type, type Static } from 'typebox'
import { EXPORT_JOB_STATES } from '../../jobs/types.js'
import { ErrorWithReportSchema } from './error-response.js'
import { DATASET_ID_MAX_LENGTH, INLINE_EXAMPLE, MOUNTED_EXAMPLE, exportRequestProperties, type FormatName } from './export-request.js'

/** `:id` of the export job routes. */
export const ExportJobParamsSchema = Type.Object({
  id: Type.String({
    pattern: '^[A-Za-z0-9_-]{1,128}$',
    description: 'The export job id, as POST /exports answered it (`ex_` and 32 hex digits).',
    examples: ['ex_4f1d2c3b4a5968778695a4b3c2d1e0f1']
  })
})

/** `POST /exports`: the export route's body plus the dataset split id. */
export function createExportRequestSchema (formats: readonly FormatName[]) {
  return Type.Object({
    dataset_id: Type.String({
      minLength: 1,
      maxLength: DATASET_ID_MAX_LENGTH,
      description: 'The dataset split id (the `{id}` of POST /datasets/{id}/export); for an inline export, dataset_split.id must equal it.'
    }),
    ...exportRequestProperties(formats)
  }, {
    additionalProperties: false,
    description: 'The body of POST /datasets/{id}/export, plus dataset_id.',
    'x-examples': {
      mounted_example_project: { summary: 'Mounted: the example project\'s train split (Jokes v1), with chain of thought', value: { dataset_id: '150621256807', ...MOUNTED_EXAMPLE } },
      inline_support_replies: { summary: 'Inline: two support replies sent in the body', value: { dataset_id: '150621256807', ...INLINE_EXAMPLE } }
    }
  })
}

export type CreateExportRequest = Static<ReturnType<typeof createExportRequestSchema>>

const count = (description: string) => Type.Integer({ minimum: 0, description })

/** An export job as GET /exports/{id} (and POST, DELETE) answer it. */
export const ExportJobSchema = Type.Object({
  id: Type.String({ description: 'The job id: a digest of the request and of its data\'s content, so the same request over the same data is the same job.' }),
  state: Type.Enum(EXPORT_JOB_STATES, {
    type: 'string',
    description: 'queued (also while waiting to retry after an I/O failure), checking (every run, before a byte is written), writing, done, failed (see `error`), cancelled.'
  }),
  dataset_id: Type.String(),
  split_name: Type.String({ description: 'The split exported (empty for a result found only in the result store).' }),
  format: Type.String(),
  created_at: Type.String({ description: 'When the job was created (ISO 8601).' }),
  attempts: Type.Integer({ minimum: 0, description: 'Tries started: more than 1 after an I/O failure was retried or a worker died.' }),
  progress: Type.Object({
    runs_checked: count('Runs of the split checked so far.'),
    runs_total: count('Runs in the split (known once checking started).'),
    lines_written: count('Lines written to the result so far.'),
    bytes_written: count('Bytes written to the result so far.')
  }),
  error: Type.Optional({ ...ErrorWithReportSchema, description: 'failed: the JSON error body POST /datasets/{id}/export answers for the same data (a 4xx status, not retried), or KEX_EXPORT_JOB_FAILED after 3 I/O failures.' }),
  result: Type.Optional(Type.Object({
    file_name: Type.String({ description: 'Kiln\'s file name (the download\'s Content-Disposition).' }),
    lines: count('Lines in the file.'),
    bytes: count('Size of the file.'),
    sha256: Type.String({ description: 'Hex SHA-256 of the file (its ETag).' }),
    location: Type.String({ description: 'Where the result store keeps it: file:///... or s3://bucket/key.' }),
    created_at: Type.String({ description: 'When it was written; it is kept for EXPORTS_TTL from then.' }),
    expires_at: Type.String({ description: 'When it is removed.' }),
    data_strategy: Type.String(),
    source_digest: Type.String({ description: 'Digest of the data it was made from.' }),
    service_version: Type.String({ description: 'The kiln-export version that wrote it.' })
  }, { description: 'done: the file.' })),
  links: Type.Object({
    self: Type.String({ description: 'This job.' }),
    file: Type.String({ description: 'Its JSONL, once done.' })
  })
}, { description: 'An export job.' })

export type ExportJobBody = Static<typeof ExportJobSchema>
