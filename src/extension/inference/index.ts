/**
 * Inference in the editor: the active model (controller.ts) and its commands, by concern: choosing the model
 * (model-commands.ts), classifying (classify-commands.ts), explaining (explain-commands.ts) and the hover (hover.ts).
 */
import type { Ctx } from '../context';
import { registerClassifyCommands } from './classify-commands';
import { InferenceController } from './controller';
import { registerExplainCommands } from './explain-commands';
import { registerHover } from './hover';
import { registerModelCommands } from './model-commands';
import { modelName } from './models';

export type { ClassifyResult } from './classify-commands';
export type { ExplainResult } from './explain-commands';
export type { QuantizeChoice } from './model-commands';

export function registerInference(ctx: Ctx): InferenceController {
  const controller = new InferenceController(ctx.log, ctx.extension.workspaceState);
  ctx.own(controller);
  const showModel = (dir: string | undefined) => ctx.statusBar.setModel(dir === undefined ? undefined : modelName(dir));
  ctx.own(controller.onDidChangeActiveModel(showModel));
  showModel(controller.activeModelDir());
  const models = registerModelCommands(ctx, controller);
  registerClassifyCommands(ctx, controller, models);
  registerExplainCommands(ctx, controller, models);
  registerHover(ctx, controller);
  return controller;
}
