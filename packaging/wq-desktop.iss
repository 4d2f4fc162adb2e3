; Inno Setup 6 script: Windows installer for the PyInstaller bundle in packaging\dist\wq-desktop.
; Build the bundle first (packaging\build_windows.bat does both steps), then:
;   iscc packaging\wq-desktop.iss
; The version is read from the built wq-desktop.exe (the spec stamps wq_desktop.__version__
; into it), so there is one version number to change; override with iscc /DAppVersion=1.2.3.
;
; Data is never installed or kept here: the program keeps the user's store, backups and logs
; in %LOCALAPPDATA%\changji-wq\wq-desktop (wq_desktop\paths.py), which uninstalling leaves alone.

#define AppName "退地减水核查"
#define AppExe "wq-desktop.exe"
#define BundleDir "dist\wq-desktop"
#ifndef AppVersion
  #define AppVersion GetVersionNumbersString(AddBackslash(SourcePath) + BundleDir + "\" + AppExe)
#endif

[Setup]
; Never change AppId: it is how Windows knows a new version replaces the old one.
AppId={{6F1C2B8E-4D3A-4C55-9E21-7A0B5D3C8F41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=昌吉市退地减水工作专班
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\wq-desktop
DefaultGroupName={#AppName}
; Township staff often have no administrator rights: install for the current user by default,
; for all users when someone with the rights chooses so.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile=..\resources\icons\wq-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir=dist
OutputBaseFilename=wq-desktop-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Updating while the program runs would replace files under it: ask to close it first.
CloseApplications=yes
DisableProgramGroupPage=yes

[Languages]
#if FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
Name: "chs"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(CompilerPath + "Languages\Unofficial\ChineseSimplified.isl")
Name: "chs"; MessagesFile: "compiler:Languages\Unofficial\ChineseSimplified.isl"
#else
Name: "en"; MessagesFile: "compiler:Default.isl"
#endif

[Tasks]
Name: "desktopicon"; Description: "在桌面创建快捷方式"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; IconFilename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "启动{#AppName}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] for the data folder on purpose: uninstalling must never delete records.
