// synack's Node-only API: what needs files, processes or the OS.

export { scriptCommand } from '../cli/script.ts';
export { openTun, TunError, type TunLink } from '../link/tun.ts';
