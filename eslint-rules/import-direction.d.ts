// Types for the local ESLint rule, so the tests can import it from TypeScript.
import type { ESLint, Rule } from 'eslint';

export declare const ALLOWED: Record<string, string[]>;
export declare const importDirection: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
