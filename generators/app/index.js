// Yeoman looks generators up here; the implementation is compiled from lib/yeoman.ts.
export { AppGenerator as default } from '../../dist/lib/yeoman.js';
