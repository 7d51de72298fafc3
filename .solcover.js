// solidity-coverage: mocks are test doubles of external systems, not protocol code.
module.exports = {
  skipFiles: ["mocks/"],
  istanbulReporter: ["html", "json-summary", "text"],
  configureYulOptimizer: false,
};
