#!/usr/bin/env node
// npm bin shim: run the TypeScript entry point through tsx.
import { register } from 'tsx/esm/api';
register();
await import('./tracebench.ts');
