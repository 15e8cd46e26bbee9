import { Type } from 'typebox'

/** An entry of `problems` in `GET /datasets`. */
export const ProjectProblemSchema = Type.Object({
  code: Type.String({
    pattern: '^KEX_',
    description: 'What a request needing the file is answered: KEX_KILN_FILE_NOT_REGULAR, KEX_KILN_FILE_TOO_LARGE, KEX_KILN_FILE_INVALID, or KEX_DATASET_AMBIGUOUS (a dataset split id in several files).'
  }),
  files: Type.Array(Type.String(), { description: 'The files concerned, relative to KILN_PROJECTS_DIR.' }),
  message: Type.String({ description: 'What is wrong and how to fix it.' })
}, { description: 'A file of a mounted project that cannot be used (the dataset splits that need it are left out of the list), or a dataset split id found in several files.' })
