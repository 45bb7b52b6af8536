//! Opening the repository at launch, and what the person can do when it does not open: try again
//! (after mounting the disk), choose another repository folder, create a new one where a
//! configured folder is missing — never silently — or quit. The choice of another folder is
//! remembered for the next launch.

use imagesmith_engine::error::code;
use imagesmith_engine::{DataLayout, Engine, Error};
use std::path::{Path, PathBuf};

use crate::settings;

/// What the "cannot open its repository" window offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Retry,
    ChooseAnother,
    CreateNew,
    /// A team repository did not open: open the desktop's own instead (this time).
    OpenLocal,
    Quit,
}

/// Asks the person (native dialogs in the app; a script in the tests).
pub trait Ask {
    /// Show `err` and let the person pick one of `offered`.
    fn choose(&self, err: &Error, offered: &[Choice]) -> Choice;
    /// A folder for the repository, or None when cancelled.
    fn pick_folder(&self) -> Option<PathBuf>;
}

/// The repository the app opens when nothing goes wrong: `IMAGESMITH_HOME`, else the one the
/// person chose earlier, else the per-user default (created on first use).
pub fn initial_layout(settings: &settings::Store) -> Result<DataLayout, Error> {
    let env_set = std::env::var_os(imagesmith_engine::layout::HOME_ENV).is_some_and(|v| !v.is_empty());
    match settings.get().repository {
        Some(dir) if !env_set => Ok(DataLayout::configured(dir)),
        _ => DataLayout::default_for_user(),
    }
}

/// What can be done about `err`: a missing configured folder can be created; anything else tried
/// again (after the person fixed it) — and another folder chosen, or quit, always.
pub fn offered(err: &Error) -> Vec<Choice> {
    let first = if err.is(code::REPOSITORY_MISSING) { Choice::CreateNew } else { Choice::Retry };
    vec![first, Choice::ChooseAnother, Choice::Quit]
}

/// Open `layout`, asking what to do for as long as it does not open. None: the person quit.
pub fn open(mut layout: DataLayout, ask: &dyn Ask, settings: &settings::Store) -> Option<Engine> {
    let mut chosen: Option<PathBuf> = None;
    let mut problem: Option<Error> = None;
    loop {
        let err = match problem.take() {
            Some(e) => e,
            None => match Engine::open(layout.clone()) {
                Ok(engine) => {
                    if let Some(dir) = chosen {
                        settings.update(|s| s.repository = Some(dir));
                    }
                    return Some(engine);
                }
                Err(e) => e,
            },
        };
        tracing::warn!(code = %err.code, text = %err.text, "repository did not open at launch");
        match ask.choose(&err, &offered(&err)) {
            Choice::Retry => {}
            Choice::CreateNew => layout = layout.creating(),
            Choice::ChooseAnother => match ask.pick_folder() {
                None => problem = Some(err),
                Some(dir) => match check_chosen(&dir) {
                    Ok(()) => {
                        layout = DataLayout::configured(dir.clone()).creating();
                        chosen = Some(dir);
                    }
                    Err(e) => problem = Some(e),
                },
            },
            Choice::OpenLocal | Choice::Quit => return None,
        }
    }
}

/// What became of opening a team repository at launch.
pub enum TeamOpened {
    Team(Box<Engine>),
    /// The person chose the desktop's own repository this time.
    Local,
    Quit,
}

/// Open team repository `name` (its secrets from the OS keyring), asking what to do for as long as
/// it does not open: try again (the server or VPN back), open the desktop's own repository this
/// time, or quit. Secrets missing from the keyring are not asked in a message box (it has no
/// password field): the local repository opens and the window asks for them (`open_team_here`).
pub fn open_team(name: &str, ask: &dyn Ask, open: &dyn Fn(&str) -> Result<Engine, Error>) -> TeamOpened {
    loop {
        match open(name) {
            Ok(engine) => return TeamOpened::Team(Box::new(engine)),
            Err(err) if err.code == code::SECRET_REQUIRED => {
                tracing::info!(text = %err.text, "team repository secrets not in the keyring; the window asks for them");
                return TeamOpened::Local;
            }
            Err(err) => {
                tracing::warn!(code = %err.code, text = %err.text, "team repository did not open at launch");
                match ask.choose(&err, &[Choice::Retry, Choice::OpenLocal, Choice::Quit]) {
                    Choice::Retry => {}
                    Choice::OpenLocal => return TeamOpened::Local,
                    _ => return TeamOpened::Quit,
                }
            }
        }
    }
}

/// A chosen folder must hold a repository or be empty (a new repository goes there): taking
/// ~/Documents as a repository would scatter objects/ and catalog.db among the person's files.
fn check_chosen(dir: &Path) -> Result<(), Error> {
    let layout = DataLayout::new(dir);
    if layout.catalog().is_file() {
        return Ok(());
    }
    let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
    if empty {
        return Ok(());
    }
    Err(Error::new(
        code::REPOSITORY_UNAVAILABLE,
        format!("{} is not an Imagesmith repository and not empty.", dir.display()),
        "A repository folder holds catalog.db and objects/; Imagesmith does not put them among other files.",
        "Choose the folder that holds catalog.db, or an empty folder for a new repository.",
    ))
}

/// The native window: a message box with the three choices, and the folder picker.
pub struct NativeAsk;

impl Ask for NativeAsk {
    fn choose(&self, err: &Error, offered: &[Choice]) -> Choice {
        let label = |c: Choice| match c {
            Choice::Retry => "Try again",
            Choice::ChooseAnother => "Choose another…",
            Choice::CreateNew => "Create new",
            Choice::OpenLocal => "Open the local one",
            Choice::Quit => "Quit",
        };
        let [a, b, c] = [offered[0], offered[1], offered[2]];
        let answer = rfd::MessageDialog::new()
            .set_level(rfd::MessageLevel::Error)
            .set_title("Imagesmith cannot open its repository")
            .set_description(format!("{}\n\n{}\n\n{}", err.text, err.explanation, err.recovery))
            .set_buttons(rfd::MessageButtons::YesNoCancelCustom(label(a).into(), label(b).into(), label(c).into()))
            .show();
        match answer {
            rfd::MessageDialogResult::Custom(s) => offered.iter().copied().find(|&o| label(o) == s).unwrap_or(Choice::Quit),
            rfd::MessageDialogResult::Yes => a,
            rfd::MessageDialogResult::No => b,
            _ => Choice::Quit,
        }
    }

    fn pick_folder(&self) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title("Choose the repository folder (or an empty folder for a new one)").pick_folder()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers in order, and records what was offered with which error code.
    struct Script {
        answers: RefCell<Vec<Choice>>,
        folders: RefCell<Vec<PathBuf>>,
        seen: RefCell<Vec<(String, Vec<Choice>)>>,
    }

    impl Script {
        fn new(answers: &[Choice], folders: &[&Path]) -> Script {
            Script {
                answers: RefCell::new(answers.iter().rev().copied().collect()),
                folders: RefCell::new(folders.iter().rev().map(|p| p.to_path_buf()).collect()),
                seen: RefCell::default(),
            }
        }
    }

    impl Ask for Script {
        fn choose(&self, err: &Error, offered: &[Choice]) -> Choice {
            self.seen.borrow_mut().push((err.code.to_string(), offered.to_vec()));
            self.answers.borrow_mut().pop().expect("asked more often than scripted")
        }
        fn pick_folder(&self) -> Option<PathBuf> {
            self.folders.borrow_mut().pop()
        }
    }

    #[test]
    fn a_team_repository_that_does_not_open_is_tried_again_or_left_for_the_local_one_or_quit() {
        let unreachable = || Error::new(code::REPOSITORY_UNAVAILABLE, "The team catalog cannot be reached.", "", "");
        let tries = std::cell::Cell::new(0);
        let open = |_: &str| -> Result<Engine, Error> {
            tries.set(tries.get() + 1);
            Err(unreachable())
        };
        let ask = Script::new(&[Choice::Retry, Choice::OpenLocal], &[]);
        assert!(matches!(open_team("lab", &ask, &open), TeamOpened::Local), "the local repository is opened instead");
        assert_eq!(tries.get(), 2, "tried again once when asked");
        assert_eq!(ask.seen.borrow()[0].1, vec![Choice::Retry, Choice::OpenLocal, Choice::Quit]);
        let quit = Script::new(&[Choice::Quit], &[]);
        assert!(matches!(open_team("lab", &quit, &open), TeamOpened::Quit));
    }

    #[test]
    fn secrets_missing_from_the_keyring_open_the_local_repository_without_a_message_box() {
        let open =
            |_: &str| -> Result<Engine, Error> { Err(imagesmith_engine::secrets::required("the catalog of team repository \"lab\"")) };
        let ask = Script::new(&[], &[]);
        assert!(matches!(open_team("lab", &ask, &open), TeamOpened::Local));
        assert!(ask.seen.borrow().is_empty(), "no message box: the window asks for the secrets");
    }

    #[test]
    fn a_missing_configured_repository_is_created_only_when_the_person_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("usb/repository");
        let settings = settings::Store::at(None);
        let quit = Script::new(&[Choice::Quit], &[]);
        assert!(open(DataLayout::configured(&gone), &quit, &settings).is_none());
        assert_eq!(quit.seen.borrow()[0], ("repository_missing".into(), vec![Choice::CreateNew, Choice::ChooseAnother, Choice::Quit]));
        assert!(!gone.exists(), "nothing is created before the person asks");

        let create = Script::new(&[Choice::CreateNew], &[]);
        assert!(open(DataLayout::configured(&gone), &create, &settings).is_some());
        assert!(gone.join("catalog.db").is_file());
    }

    #[test]
    fn retry_opens_the_repository_once_it_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let later = dir.path().join("nas");
        // The person mounts the share (here: the repository appears) and presses Try again.
        struct MountThenRetry<'a>(&'a Path, RefCell<u32>);
        impl Ask for MountThenRetry<'_> {
            fn choose(&self, _: &Error, _: &[Choice]) -> Choice {
                *self.1.borrow_mut() += 1;
                Engine::open(DataLayout::new(self.0)).unwrap();
                Choice::Retry
            }
            fn pick_folder(&self) -> Option<PathBuf> {
                None
            }
        }
        let ask = MountThenRetry(&later, RefCell::new(0));
        assert!(open(DataLayout::configured(&later), &ask, &settings::Store::at(None)).is_some());
        assert_eq!(*ask.1.borrow(), 1);
    }

    #[test]
    fn another_folder_must_be_a_repository_or_empty_and_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let documents = dir.path().join("Documents");
        std::fs::create_dir(&documents).unwrap();
        std::fs::write(documents.join("letter.odt"), "x").unwrap();
        let empty = dir.path().join("new-repo");
        std::fs::create_dir(&empty).unwrap();
        let settings_file = dir.path().join("config/settings.json");
        let settings = settings::Store::at(Some(settings_file.clone()));

        let ask = Script::new(&[Choice::ChooseAnother, Choice::ChooseAnother], &[&documents, &empty]);
        let engine = open(DataLayout::configured(dir.path().join("missing")), &ask, &settings);
        assert!(engine.is_some());
        let seen = ask.seen.borrow();
        assert_eq!(seen[1].0, "repository_unavailable", "a folder full of other files is refused: {seen:?}");
        assert_eq!(std::fs::read_dir(&documents).unwrap().count(), 1, "nothing written among the person's files");
        assert!(empty.join("catalog.db").is_file(), "an empty folder becomes the new repository");
        let remembered = settings::Store::at(Some(settings_file)).get().repository;
        assert_eq!(remembered.as_deref(), Some(empty.as_path()));
        let layout = initial_layout(&settings);
        if std::env::var_os(imagesmith_engine::layout::HOME_ENV).is_none() {
            assert_eq!(layout.unwrap(), DataLayout::configured(&empty), "the next launch opens it");
        }
    }
}
