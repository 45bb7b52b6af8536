// Every keyboard shortcut of the app, in groups, as the help overlay (F1) lists them.
export type Shortcut = { keys: string[]; what: string };
export type ShortcutGroup = { title: string; shortcuts: Shortcut[] };

export const SHORTCUTS: ShortcutGroup[] = [
  {
    title: 'Everywhere',
    shortcuts: [
      { keys: ['F1'], what: 'Show these shortcuts' },
      { keys: ['Ctrl+O'], what: 'Add files… (the file dialog, then the import review)' },
      { keys: ['Ctrl+L'], what: 'Import from URL… (paste http or https links; links dropped from a browser go there too)' },
      { keys: ['Ctrl+F'], what: 'Search on this screen' },
      { keys: ['Ctrl+Q'], what: 'Quit Imagesmith' },
      { keys: ['Escape'], what: 'Close a dialog or menu; the keyboard goes back where it was' },
    ],
  },
  {
    title: 'Library list',
    shortcuts: [
      { keys: ['↑', '↓'], what: 'Previous or next artifact' },
      { keys: ['Home', 'End'], what: 'First or last artifact (End loads the whole library)' },
      { keys: ['Shift+↑', 'Shift+↓'], what: 'Extend the selection' },
      { keys: ['Shift+click'], what: 'Select the range from the last click' },
      { keys: ['Ctrl+click'], what: 'Add an artifact to the selection, or take it out' },
      { keys: ['Ctrl+↑', 'Ctrl+↓', 'Space'], what: 'Move without selecting, then add or take out the artifact' },
      { keys: ['Ctrl+A'], what: 'Select every artifact that matches the filters' },
      { keys: ['Escape'], what: 'Clear the selection' },
      { keys: ['Delete'], what: 'Delete the selected artifacts (asks first)' },
      { keys: ['Ctrl+Z'], what: 'Undo a bulk delete while its notice shows' },
      { keys: ['Shift+F10', 'Menu'], what: 'Actions for the focused artifact (as a right click)' },
    ],
  },
  {
    title: 'Import review and Import from URL',
    shortcuts: [
      { keys: ['Ctrl+Enter'], what: 'Import from URL: start the download' },
      { keys: ['Enter', 'Space'], what: 'On “Attributes”: open or close a file’s alias, access, owner and the rest' },
    ],
  },
  {
    title: 'Image stores',
    shortcuts: [
      { keys: ['Tab'], what: 'Move between the images of the store browsed' },
      { keys: ['Space', 'Enter'], what: 'Choose an image, or take it out of the choice' },
      { keys: ['Ctrl+A'], what: 'Choose every image shown (again: none)' },
      { keys: ['Escape'], what: 'Clear the choice' },
      { keys: ['Ctrl+Enter'], what: 'Import dialogs (store, manifest URL): start the download' },
    ],
  },
  {
    title: 'Menus',
    shortcuts: [
      { keys: ['↑', '↓', 'Home', 'End'], what: 'Move between the actions' },
      { keys: ['Enter'], what: 'Run the action' },
      { keys: ['Escape', 'Tab'], what: 'Close the menu' },
    ],
  },
];
