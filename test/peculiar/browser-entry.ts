// The page's script: the pure core and the scenario, bundled by esbuild for the browser test.
import * as mailtls from '../../src/index.js';
import * as tlsa from '../../src/tls/tlsa.js';
import { runScenario, type ScenarioFixtures } from './browser-scenario.js';

(globalThis as { runScenario?: (fx: ScenarioFixtures) => Promise<unknown> }).runScenario = (fx) =>
  runScenario(mailtls, tlsa, fx);
