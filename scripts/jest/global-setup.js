// Jest globalSetup of every package (jest.preset.js): a temp root per run (temp-root.js).
import { createTempRoot } from './temp-root.js';

export default function globalSetup() {
  createTempRoot();
}
