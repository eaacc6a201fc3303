/** Process entry: everything testable lives in main(); this file only wires it to the process. */
import { main } from './main.js';
import { outliveClosedReaders } from '../output.js';
import { mark } from '../trace.js';

mark('core loaded');

outliveClosedReaders();
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
