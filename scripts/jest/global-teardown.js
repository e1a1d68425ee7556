// Jest globalTeardown of every package (jest.preset.js): fails the run if the tests left
// anything in the run's temp root (temp-root.js).
import { checkTempRoot } from './temp-root.js';

export default function globalTeardown() {
  checkTempRoot();
}
