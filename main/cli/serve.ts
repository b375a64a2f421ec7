// CLI commands for "wss-studio serve ...".
import type { Command } from './command';

export const commands: Command[] = [];
