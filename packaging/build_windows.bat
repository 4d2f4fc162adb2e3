@echo off
rem Builds the Windows bundle (packaging\dist\wq-desktop) and the installer
rem (packaging\dist\wq-desktop-VERSION-setup.exe). Needs Python 3.11 (py launcher) and Inno Setup 6.
rem Usage, from the repository root:  packaging\build_windows.bat
setlocal
cd /d "%~dp0.."
if not exist .venv\Scripts\python.exe (
  py -3.11 -m venv .venv || goto :fail
  .venv\Scripts\python -m pip install -r requirements.txt || goto :fail
)
.venv\Scripts\python -m pip install -q pyinstaller==6.22.3 || goto :fail
if not exist resources\icons\wq-desktop.ico .venv\Scripts\python packaging\make_icon.py || goto :fail
.venv\Scripts\python -m PyInstaller packaging\wq-desktop.spec --noconfirm --clean ^
  --distpath packaging\dist --workpath packaging\build || goto :fail
set ISCC=iscc
where iscc >nul 2>nul || set ISCC="%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe"
%ISCC% packaging\wq-desktop.iss || goto :fail
echo build_windows: OK
exit /b 0
:fail
echo build_windows: FAILED
exit /b 1
