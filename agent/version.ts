// Replaced by the bundler (scripts/build.mjs) with package.json's version; "dev" when run from source with tsx.
declare const WN_AGENT_VERSION: string | undefined;

export const agentVersion: string = typeof WN_AGENT_VERSION === 'string' ? WN_AGENT_VERSION : 'dev';
