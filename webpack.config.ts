/**
 * Extends the scaffolded webpack config (.config/webpack, not to be edited) as create-plugin
 * documents: the query model workspace (@agent-insights/model) is bundled from its TypeScript
 * sources, so the frontend build needs no prior build of model/ and always matches it.
 */
import path from 'path';
import type { Configuration } from 'webpack';

import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return {
    ...base,
    resolve: {
      ...base.resolve,
      alias: {
        ...(base.resolve?.alias as Record<string, string> | undefined),
        '@agent-insights/model$': path.resolve(process.cwd(), 'model', 'src', 'index.ts'),
      },
    },
  };
};

export default config;
