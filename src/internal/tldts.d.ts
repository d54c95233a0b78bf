/**
 * The types of tldts's ES module bundle. The package's main file is CommonJS, which Node lexes in full
 * (200 KB, about 30 ms of CPU) before an ES module can import it; its ES bundle holds the same functions and
 * loads in a third of that, which every process that imports mailtls pays at start.
 */
declare module 'tldts/dist/index.esm.min.js' {
  export * from 'tldts';
}
