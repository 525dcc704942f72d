/**
 * The registry of CLI commands. Each entry adds one sub-command to the program;
 * add a command by writing lib/cli/<name>.ts with a `register` function and listing it here.
 */
import type { Command } from 'commander';

import { register as registerAugment } from './augment.js';
import { register as registerBench } from './bench.js';
import { register as registerCaption } from './caption.js';
import { register as registerDownload } from './download.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerEval } from './eval.js';
import { register as registerScore } from './score.js';
import { register as registerServe } from './serve.js';
import { register as registerTrain } from './train.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerCaption, registerScore, registerEval, registerTrain, registerBench, registerAugment, registerServe, registerDownload, registerDoctor];
