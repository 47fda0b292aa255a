// Yeoman looks generators up here; the implementation is compiled from lib/yeoman.ts.
import { kindGenerator } from '../../dist/lib/yeoman.js';

export default kindGenerator('lgc');
