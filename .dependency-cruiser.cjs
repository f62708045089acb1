/**
 * The direction of dependencies, checked by `npm run lint` (see DESIGN: drivers →
 * normalizer → bus → sinks; commands the other way, through the device contract).
 */
module.exports = {
  forbidden: [
    {
      name: 'drivers-import-no-gateway',
      comment: 'A driver knows its device and protocol only: it imports drivers/contract, never gateway/.',
      severity: 'error',
      from: { path: '^drivers/' },
      to: { path: '^gateway/' },
    },
    {
      name: 'contract-imports-no-driver',
      comment:
        'drivers/contract is the small package every driver and the gateway import; it depends on no driver.',
      severity: 'error',
      from: { path: '^drivers/contract/' },
      to: { path: '^drivers/(?!contract/)' },
    },
    {
      name: 'sims-import-no-product',
      comment:
        'Simulators are independent peers: they share profiles (data files) with drivers, never code of the gateway or the drivers.',
      severity: 'error',
      from: { path: '^device-sims/' },
      to: { path: '^(gateway|drivers)/' },
    },
    {
      name: 'product-imports-no-harness',
      comment: 'Product code (dist/) holds no simulator, test or benchmark code.',
      severity: 'error',
      from: { path: '^(gateway|drivers)/' },
      to: { path: '^(device-sims|test|bench|scripts)/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles anywhere, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    exclude: { path: '^(dist|node_modules|coverage|test-results)/' },
  },
};
