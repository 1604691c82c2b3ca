const project = require('./jest.preset');

/** One Jest project per workspace project; `jest --selectProjects <name>` runs one. */
module.exports = {
  projects: [project('platform', '<rootDir>/libs/platform'), project('delivery', '<rootDir>/services/delivery')],
};
