import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', 'bench/.data/**'] }),
  {
    // The typescript-eslint plugin is registered by neostandard's TS block, for .ts files only.
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }]
    }
  }
]
