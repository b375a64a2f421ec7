// Svelte compiler options shared by Vite and eslint-plugin-svelte.
export default {
  compilerOptions: { runes: true },
};
