// Bundled as dist/emulator/index.mjs, the image's /var/runtime/emulator.mjs.
import { main } from './index.ts';

main(process.argv.slice(2));
