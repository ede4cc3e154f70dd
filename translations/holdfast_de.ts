<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AnswerFooter</name>
    <message>
        <source>%1 in</source>
        <translation>%1 Token ein</translation>
    </message>
    <message>
        <source>%1 out</source>
        <translation>%1 Token aus</translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 Tok./s</translation>
    </message>
    <message>
        <source>%1 s to first token</source>
        <translation>%1 s bis zum ersten Token</translation>
    </message>
    <message>
        <source>1 older message was left out to fit the context budget</source>
        <translation>1 ältere Nachricht wurde weggelassen, um ins Kontextbudget zu passen</translation>
    </message>
    <message>
        <source>~%1 tokens of %2</source>
        <translation>~%1 Token von %2</translation>
    </message>
    <message>
        <source>~%1 tokens</source>
        <translation>~%1 Token</translation>
    </message>
    <message numerus="yes">
        <source>%Ln older messages were left out to fit the context budget</source>
        <translation>
            <numerusform>%Ln ältere Nachricht wurde weggelassen, um ins Kontextbudget zu passen</numerusform>
            <numerusform>%Ln ältere Nachrichten wurden weggelassen, um ins Kontextbudget zu passen</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>%1 is a folder</source>
        <translation>%1 ist ein Ordner</translation>
    </message>
    <message>
        <source>%1 is too large to attach (%2)</source>
        <translation>%1 ist zu groß zum Anhängen (%2)</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>%1 konnte nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The pasted picture could not be converted to PNG</source>
        <translation>Das eingefügte Bild konnte nicht in PNG umgewandelt werden</translation>
    </message>
    <message>
        <source>Link not opened: %1</source>
        <translation>Link nicht geöffnet: %1</translation>
    </message>
    <message>
        <source>Image not shown: %1</source>
        <translation>Bild nicht angezeigt: %1</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Sessions on this computer</source>
        <translation>Sitzungen auf diesem Computer</translation>
    </message>
    <message>
        <source>Serving the API on %1</source>
        <translation>API wird auf %1 bereitgestellt</translation>
    </message>
    <message>
        <source>Connected to %1</source>
        <translation>Verbunden mit %1</translation>
    </message>
    <message>
        <source>the service sent an unexpected answer</source>
        <translation>der Dienst hat eine unerwartete Antwort gesendet</translation>
    </message>
    <message>
        <source>the server redirected to %1 (HTTP %2), which Holdfast does not follow; connect to the final address</source>
        <translation>der Server hat nach %1 umgeleitet (HTTP %2), was Holdfast nicht befolgt; verbinden Sie sich mit der endgültigen Adresse</translation>
    </message>
</context>
<context>
    <name>QPlatformTheme</name>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Öffnen</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Anwenden</translation>
    </message>
    <message>
        <source>&amp;Yes</source>
        <translation>&amp;Ja</translation>
    </message>
    <message>
        <source>&amp;No</source>
        <translation>&amp;Nein</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <source>Help</source>
        <translation>Hilfe</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>Zurücksetzen</translation>
    </message>
    <message>
        <source>Restore Defaults</source>
        <translation>Standardwerte</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>Model providers</source>
        <translation>Modellanbieter</translation>
    </message>
    <message>
        <source>The providers Holdfast starts with; demo is built in</source>
        <translation>Die Anbieter, mit denen Holdfast startet; demo ist eingebaut</translation>
    </message>
    <message>
        <source>Add a provider (Ins)</source>
        <translation>Anbieter hinzufügen (Einfg)</translation>
    </message>
    <message>
        <source>Add provider</source>
        <translation>Anbieter hinzufügen</translation>
    </message>
    <message>
        <source>Remove the selected provider (Del)</source>
        <translation>Ausgewählten Anbieter entfernen (Entf)</translation>
    </message>
    <message>
        <source>Remove provider</source>
        <translation>Anbieter entfernen</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>letters, digits, - and _</source>
        <translation>Buchstaben, Ziffern, - und _</translation>
    </message>
    <message>
        <source>Sessions pick this provider&apos;s models as NAME/model</source>
        <translation>Sitzungen wählen die Modelle dieses Anbieters als NAME/Modell</translation>
    </message>
    <message>
        <source>&amp;Kind:</source>
        <translation>&amp;Art:</translation>
    </message>
    <message>
        <source>&amp;Base URL:</source>
        <translation>&amp;Basis-URL:</translation>
    </message>
    <message>
        <source>Default &amp;model:</source>
        <translation>Standard&amp;modell:</translation>
    </message>
    <message>
        <source>Type a model name, or pick one Test connection found</source>
        <translation>Modellnamen eingeben oder einen wählen, den „Verbindung testen“ gefunden hat</translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation>&amp;Verbindung testen</translation>
    </message>
    <message>
        <source>Ask the server for the models it serves</source>
        <translation>Den Server nach seinen Modellen fragen</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API-&amp;Schlüssel:</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>Speicherung</translation>
    </message>
    <message>
        <source>&amp;Sessions stored in:</source>
        <translation>&amp;Sitzungen gespeichert in:</translation>
    </message>
    <message>
        <source>sqlite:PATH, redis://HOST:PORT/DB or memory:</source>
        <translation>sqlite:PFAD, redis://HOST:PORT/DB oder memory:</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Choose a database file</source>
        <translation>Datenbankdatei wählen</translation>
    </message>
    <message>
        <source>A new place takes effect the next time Holdfast starts.</source>
        <translation>Ein neuer Ort gilt ab dem nächsten Start von Holdfast.</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>Chats</translation>
    </message>
    <message>
        <source>Chat &amp;font size:</source>
        <translation>Schrift&amp;größe im Chat:</translation>
    </message>
    <message>
        <source> pt</source>
        <translation> pt</translation>
    </message>
    <message>
        <source>Let the model &amp;title a new chat after its first answer</source>
        <translation>Das Modell einen neuen Chat nach seiner ersten Antwort &amp;benennen lassen</translation>
    </message>
    <message>
        <source>Off: a chat is named after the first line of its first prompt</source>
        <translation>Aus: ein Chat heißt wie die erste Zeile seiner ersten Eingabe</translation>
    </message>
    <message>
        <source>Serve the API on this computer</source>
        <translation>Die API auf diesem Computer bereitstellen</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port:</translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation>&amp;Token:</translation>
    </message>
    <message>
        <source>clients send it as a Bearer token</source>
        <translation>Clients senden es als Bearer-Token</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Erzeugen</translation>
    </message>
    <message>
        <source>Accept connections from other computers (needs a token)</source>
        <translation>Verbindungen von anderen Computern annehmen (braucht ein Token)</translation>
    </message>
    <message>
        <source>Server changes take effect the next time Holdfast starts.</source>
        <translation>Serveränderungen gelten ab dem nächsten Start von Holdfast.</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>Spr&amp;ache:</translation>
    </message>
    <message>
        <source>The language of the window; a change applies the next time Holdfast starts</source>
        <translation>Die Sprache des Fensters; eine Änderung gilt ab dem nächsten Start von Holdfast</translation>
    </message>
</context>
<context>
    <name>holdfast::AttachmentBar</name>
    <message>
        <source>not attached</source>
        <translation>nicht angehängt</translation>
    </message>
    <message>
        <source>uploading…</source>
        <translation>wird hochgeladen…</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>%1 entfernen</translation>
    </message>
    <message>
        <source>Attachment %1</source>
        <translation>Anhang %1</translation>
    </message>
    <message>
        <source>not attached: %1</source>
        <translation>nicht angehängt: %1</translation>
    </message>
</context>
<context>
    <name>holdfast::AttachmentOpener</name>
    <message>
        <source>Save Attachment</source>
        <translation>Anhang speichern</translation>
    </message>
    <message>
        <source>not connected</source>
        <translation>nicht verbunden</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Could not write %1 to a temporary folder</source>
        <translation>%1 konnte nicht in einen temporären Ordner geschrieben werden</translation>
    </message>
    <message>
        <source>No application opens %1</source>
        <translation>Keine Anwendung öffnet %1</translation>
    </message>
    <message>
        <source>Could not save %1: %2</source>
        <translation>%1 konnte nicht gespeichert werden: %2</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>%1 konnte nicht geschrieben werden</translation>
    </message>
</context>
<context>
    <name>holdfast::ChatPane</name>
    <message>
        <source>Model of this chat</source>
        <translation>Modell dieses Chats</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>System prompt of this chat</source>
        <translation>Systemprompt dieses Chats</translation>
    </message>
    <message>
        <source>Attach files: pictures, text, PDF (or drop them on the chat, or paste a picture)</source>
        <translation>Dateien anhängen: Bilder, Text, PDF (oder auf den Chat ziehen oder ein Bild einfügen)</translation>
    </message>
    <message>
        <source>Attach files</source>
        <translation>Dateien anhängen</translation>
    </message>
    <message>
        <source>&lt;b&gt;Editing&lt;/b&gt; your message · Enter sends it as a new version · Esc cancels</source>
        <translation>&lt;b&gt;Bearbeiten&lt;/b&gt; Ihrer Nachricht · Eingabe sendet sie als neue Version · Esc bricht ab</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
    <message>
        <source>Start a new chat: write below and press Enter.</source>
        <translation>Neuen Chat beginnen: unten schreiben und Eingabe drücken.</translation>
    </message>
    <message>
        <source>Could not open the chat: %1</source>
        <translation>Der Chat konnte nicht geöffnet werden: %1</translation>
    </message>
    <message>
        <source>Could not load earlier messages: %1</source>
        <translation>Frühere Nachrichten konnten nicht geladen werden: %1</translation>
    </message>
    <message>
        <source>Could not load later messages: %1</source>
        <translation>Spätere Nachrichten konnten nicht geladen werden: %1</translation>
    </message>
    <message>
        <source>Wait for the files to finish uploading, then send</source>
        <translation>Warten Sie, bis die Dateien hochgeladen sind, und senden Sie dann</translation>
    </message>
    <message>
        <source>Could not create a chat: %1</source>
        <translation>Der Chat konnte nicht angelegt werden: %1</translation>
    </message>
    <message>
        <source>The message was not sent: %1</source>
        <translation>Die Nachricht wurde nicht gesendet: %1</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>Wird erzeugt…</translation>
    </message>
    <message>
        <source>Wait for the answer to finish, or stop it, to edit a message</source>
        <translation>Warten Sie, bis die Antwort fertig ist, oder stoppen Sie sie, um eine Nachricht zu bearbeiten</translation>
    </message>
    <message>
        <source>Could not answer again: %1</source>
        <translation>Erneute Antwort nicht möglich: %1</translation>
    </message>
    <message>
        <source>Wait for the answer to finish, or stop it, to switch versions</source>
        <translation>Warten Sie, bis die Antwort fertig ist, oder stoppen Sie sie, um die Version zu wechseln</translation>
    </message>
    <message>
        <source>Could not show that version: %1</source>
        <translation>Diese Version konnte nicht angezeigt werden: %1</translation>
    </message>
    <message>
        <source>Could not load that version: %1</source>
        <translation>Diese Version konnte nicht geladen werden: %1</translation>
    </message>
    <message>
        <source>Could not stop the answer: %1</source>
        <translation>Die Antwort konnte nicht gestoppt werden: %1</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Neuer Chat</translation>
    </message>
    <message>
        <source>Set a system prompt for this chat</source>
        <translation>Einen Systemprompt für diesen Chat festlegen</translation>
    </message>
    <message>
        <source>System prompt: %1</source>
        <translation>Systemprompt: %1</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>Antwort stoppen (Esc)</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>Senden (Eingabe)</translation>
    </message>
    <message>
        <source>Could not change the chat: %1</source>
        <translation>Der Chat konnte nicht geändert werden: %1</translation>
    </message>
    <message>
        <source>Attach Files</source>
        <translation>Dateien anhängen</translation>
    </message>
    <message>
        <source>Pictures, text and PDF (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.md *.json *.csv *.log *.xml *.yaml *.yml *.c *.cpp *.h *.py *.js *.ts *.rs *.go *.java *.sh);;All files (*)</source>
        <translation>Bilder, Text und PDF (*.png *.jpg *.jpeg *.webp *.gif *.pdf *.txt *.md *.json *.csv *.log *.xml *.yaml *.yml *.c *.cpp *.h *.py *.js *.ts *.rs *.go *.java *.sh);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>no chat to attach it to</source>
        <translation>kein Chat, an den es angehängt werden kann</translation>
    </message>
    <message>
        <source>The model wants to use %1: allow it or decline</source>
        <translation>Das Modell möchte %1 verwenden: erlauben oder ablehnen</translation>
    </message>
    <message>
        <source>Allowed</source>
        <translation>Erlaubt</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>Abgelehnt</translation>
    </message>
    <message>
        <source>This tool call no longer waits: it was answered elsewhere or timed out.</source>
        <translation>Dieser Werkzeugaufruf wartet nicht mehr: er wurde anderswo beantwortet oder ist abgelaufen.</translation>
    </message>
    <message>
        <source>Could not answer the tool call: %1</source>
        <translation>Der Werkzeugaufruf konnte nicht beantwortet werden: %1</translation>
    </message>
    <message>
        <source>Could not change the chat&apos;s tools: %1</source>
        <translation>Die Werkzeuge des Chats konnten nicht geändert werden: %1</translation>
    </message>
    <message>
        <source>Chat settings: model, system prompt, temperature, context budget (Ctrl+Shift+S)</source>
        <translation>Chat-Einstellungen: Modell, Systemprompt, Temperatur, Kontextbudget (Strg+Umschalt+S)</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>Chat-Einstellungen</translation>
    </message>
    <message>
        <source>Token estimate of the message</source>
        <translation>Token-Schätzung der Nachricht</translation>
    </message>
    <message>
        <source>The message alone is larger than the chat&apos;s context budget</source>
        <translation>Die Nachricht allein ist größer als das Kontextbudget des Chats</translation>
    </message>
    <message>
        <source>About one token per 4 bytes of text</source>
        <translation>Etwa ein Token pro 4 Byte Text</translation>
    </message>
    <message numerus="yes">
        <source>at most %Ln files go with one message</source>
        <translation>
            <numerusform>höchstens %Ln Datei geht mit einer Nachricht</numerusform>
            <numerusform>höchstens %Ln Dateien gehen mit einer Nachricht</numerusform>
        </translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>Systemprompt</translation>
    </message>
    <message>
        <source>Edits the system prompt of this chat</source>
        <translation>Bearbeitet den Systemprompt dieses Chats</translation>
    </message>
    <message>
        <source>Pictures, text or PDF; files can also be dropped on the chat or pasted</source>
        <translation>Bilder, Text oder PDF; Dateien können auch auf den Chat gezogen oder eingefügt werden</translation>
    </message>
    <message>
        <source>Cancel editing</source>
        <translation>Bearbeiten abbrechen</translation>
    </message>
    <message>
        <source>Answer finished: %1</source>
        <translation>Antwort fertig: %1</translation>
    </message>
    <message>
        <source>The answer failed: %1</source>
        <translation>Die Antwort ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>the model failed</source>
        <translation>das Modell hat versagt</translation>
    </message>
    <message>
        <source>Stop the answer</source>
        <translation>Antwort anhalten</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Stops the answer being written (Esc)</source>
        <translation>Hält die Antwort an, die gerade geschrieben wird (Esc)</translation>
    </message>
    <message>
        <source>Sends the message (Enter)</source>
        <translation>Sendet die Nachricht (Eingabetaste)</translation>
    </message>
</context>
<context>
    <name>holdfast::ChatSettingsPanel</name>
    <message>
        <source>Chat settings</source>
        <translation>Chat-Einstellungen</translation>
    </message>
    <message>
        <source>Close the chat settings</source>
        <translation>Chat-Einstellungen schließen</translation>
    </message>
    <message>
        <source>Close chat settings</source>
        <translation>Chat-Einstellungen schließen</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>The model that answers in this chat</source>
        <translation>Das Modell, das in diesem Chat antwortet</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>Systemprompt</translation>
    </message>
    <message>
        <source>None: instructions the model gets before the chat</source>
        <translation>Keiner: Anweisungen, die das Modell vor dem Chat erhält</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Temperatur</translation>
    </message>
    <message>
        <source>model default</source>
        <translation>Modellstandard</translation>
    </message>
    <message>
        <source>0 to 2: lower is more focused, higher more varied</source>
        <translation>0 bis 2: niedriger ist fokussierter, höher abwechslungsreicher</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>0 to 1: the share of likely words the model picks from</source>
        <translation>0 bis 1: der Anteil wahrscheinlicher Wörter, aus denen das Modell wählt</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>Max. Token</translation>
    </message>
    <message>
        <source>The longest answer, in tokens (1 or more)</source>
        <translation>Die längste Antwort in Token (1 oder mehr)</translation>
    </message>
    <message>
        <source>Context budget</source>
        <translation>Kontextbudget</translation>
    </message>
    <message>
        <source>provider default</source>
        <translation>Anbieterstandard</translation>
    </message>
    <message>
        <source>How many tokens of the chat go to the model (256 or more); older messages that do not fit are left out</source>
        <translation>Wie viele Token des Chats an das Modell gehen (256 oder mehr); ältere Nachrichten, die nicht passen, werden weggelassen</translation>
    </message>
    <message>
        <source>&amp;Temperature</source>
        <translation>&amp;Temperatur</translation>
    </message>
    <message>
        <source>Top-&amp;p</source>
        <translation>Top-&amp;p</translation>
    </message>
    <message>
        <source>Max &amp;tokens</source>
        <translation>Max. &amp;Token</translation>
    </message>
    <message>
        <source>Context &amp;budget</source>
        <translation>Kontext&amp;budget</translation>
    </message>
    <message>
        <source>Settings error</source>
        <translation>Einstellungsfehler</translation>
    </message>
    <message>
        <source>Changes apply from the next answer. An empty field uses the default.</source>
        <translation>Änderungen gelten ab der nächsten Antwort. Ein leeres Feld verwendet den Standard.</translation>
    </message>
    <message>
        <source>&amp;Reset to defaults</source>
        <translation>Auf Standard &amp;zurücksetzen</translation>
    </message>
    <message>
        <source>Reset options to defaults</source>
        <translation>Optionen auf Standard zurücksetzen</translation>
    </message>
    <message>
        <source>Clear temperature, top-p, max tokens and context budget</source>
        <translation>Temperatur, Top-p, max. Token und Kontextbudget leeren</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>&amp;Modell</translation>
    </message>
    <message>
        <source>&amp;System prompt</source>
        <translation>&amp;Systemprompt</translation>
    </message>
    <message>
        <source>%1 must be a number, or empty for the default</source>
        <translation>%1 muss eine Zahl sein oder leer für den Standard</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>Clear %1</source>
        <translation>%1 leeren</translation>
    </message>
</context>
<context>
    <name>holdfast::ChatView</name>
    <message>
        <source>You</source>
        <translation>Sie</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>Assistent</translation>
    </message>
    <message>
        <source>%1 (%2) — click to open, right-click to save</source>
        <translation>%1 (%2) — Klicken zum Öffnen, Rechtsklick zum Speichern</translation>
    </message>
    <message>
        <source>%1 (%2, %3) — click to open, right-click to save</source>
        <translation>%1 (%2, %3) — Klicken zum Öffnen, Rechtsklick zum Speichern</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>unterbrochen</translation>
    </message>
    <message>
        <source>error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>The model failed.</source>
        <translation>Das Modell ist fehlgeschlagen.</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Previous version (Alt+Left)</source>
        <translation>Vorherige Version (Alt+Links)</translation>
    </message>
    <message>
        <source>Next version (Alt+Right)</source>
        <translation>Nächste Version (Alt+Rechts)</translation>
    </message>
    <message>
        <source>✎ Edit</source>
        <translation>✎ Bearbeiten</translation>
    </message>
    <message>
        <source>Edit this message and send it as a new version</source>
        <translation>Diese Nachricht bearbeiten und als neue Version senden</translation>
    </message>
    <message>
        <source>↻ Regenerate</source>
        <translation>↻ Neu erzeugen</translation>
    </message>
    <message>
        <source>Answer again: a new version (Ctrl+Shift+R)</source>
        <translation>Erneut antworten: eine neue Version (Strg+Umschalt+R)</translation>
    </message>
    <message>
        <source>Code copied to the clipboard</source>
        <translation>Code in die Zwischenablage kopiert</translation>
    </message>
    <message numerus="yes">
        <source>… (%n more characters)</source>
        <translation>
            <numerusform>… (%n weiteres Zeichen)</numerusform>
            <numerusform>… (%n weitere Zeichen)</numerusform>
        </translation>
    </message>
    <message>
        <source>Open Link</source>
        <translation>Link öffnen</translation>
    </message>
    <message>
        <source>Open this link?</source>
        <translation>Diesen Link öffnen?</translation>
    </message>
    <message>
        <source>Save “%1” As…</source>
        <translation>„%1“ speichern unter…</translation>
    </message>
    <message>
        <source>Open “%1”</source>
        <translation>„%1“ öffnen</translation>
    </message>
    <message>
        <source>Copy Message as Markdown</source>
        <translation>Nachricht als Markdown kopieren</translation>
    </message>
    <message>
        <source>Message copied to the clipboard</source>
        <translation>Nachricht in die Zwischenablage kopiert</translation>
    </message>
    <message numerus="yes">
        <source>(%n more characters)</source>
        <translation>
            <numerusform>(%n weiteres Zeichen)</numerusform>
            <numerusform>(%n weitere Zeichen)</numerusform>
        </translation>
    </message>
    <message>
        <source>waiting for your approval</source>
        <translation>wartet auf Ihre Freigabe</translation>
    </message>
    <message>
        <source>running…</source>
        <translation>läuft…</translation>
    </message>
    <message>
        <source>no result</source>
        <translation>kein Ergebnis</translation>
    </message>
    <message>
        <source>declined</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>done</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>Hide the arguments and the result</source>
        <translation>Argumente und Ergebnis ausblenden</translation>
    </message>
    <message>
        <source>Show the arguments and the result</source>
        <translation>Argumente und Ergebnis anzeigen</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>Argumente</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>Unterhaltung</translation>
    </message>
    <message>
        <source>writing…</source>
        <translation>schreibt…</translation>
    </message>
    <message>
        <source>%1, %2</source>
        <translation>%1, %2</translation>
    </message>
    <message>
        <source>%1, version %2 of %3</source>
        <translation>%1, Version %2 von %3</translation>
    </message>
    <message>
        <source>%1, interrupted</source>
        <translation>%1, unterbrochen</translation>
    </message>
    <message>
        <source>%1, failed</source>
        <translation>%1, fehlgeschlagen</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>No messages</source>
        <translation>Keine Nachrichten</translation>
    </message>
    <message>
        <source>One message shown: %1</source>
        <translation>Eine Nachricht angezeigt: %1</translation>
    </message>
    <message>
        <source>%1 messages shown. Last: %2</source>
        <translation>%1 Nachrichten angezeigt. Letzte: %2</translation>
    </message>
</context>
<context>
    <name>holdfast::Composer</name>
    <message>
        <source>Message the model — Enter to send, Shift+Enter for a new line</source>
        <translation>Nachricht an das Modell — Eingabe sendet, Umschalt+Eingabe für eine neue Zeile</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line, Up in an empty message edits the last one</source>
        <translation>Eingabetaste sendet, Umschalt+Eingabetaste beginnt eine neue Zeile, Pfeil nach oben in einer leeren Nachricht bearbeitet die letzte</translation>
    </message>
</context>
<context>
    <name>holdfast::LocalClient</name>
    <message>
        <source>this computer</source>
        <translation>diesem Computer</translation>
    </message>
    <message>
        <source>the service has stopped</source>
        <translation>der Dienst wurde beendet</translation>
    </message>
</context>
<context>
    <name>holdfast::MainWindow</name>
    <message>
        <source>Starting the service…</source>
        <translation>Der Dienst wird gestartet…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;New Chat</source>
        <translation>&amp;Neuer Chat</translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>Als &amp;Markdown exportieren…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON (every version)…</source>
        <translation>Als &amp;JSON exportieren (alle Versionen)…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;MCP Servers…</source>
        <translation>&amp;MCP-Server…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Rename Chat</source>
        <translation>Chat &amp;umbenennen</translation>
    </message>
    <message>
        <source>&amp;Delete Chat…</source>
        <translation>Chat &amp;löschen…</translation>
    </message>
    <message>
        <source>&amp;Find Chats</source>
        <translation>Chats &amp;suchen</translation>
    </message>
    <message>
        <source>Copy &amp;Last Answer</source>
        <translation>&amp;Letzte Antwort kopieren</translation>
    </message>
    <message>
        <source>Answer copied to the clipboard</source>
        <translation>Antwort in die Zwischenablage kopiert</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>&amp;Chat</translation>
    </message>
    <message>
        <source>&amp;Write a Message</source>
        <translation>Nachricht &amp;schreiben</translation>
    </message>
    <message>
        <source>&amp;Stop Answer</source>
        <translation>Antwort s&amp;toppen</translation>
    </message>
    <message>
        <source>&amp;Edit Last Message</source>
        <translation>Letzte Nachricht &amp;bearbeiten</translation>
    </message>
    <message>
        <source>Edit Last Message (Up in an empty composer)</source>
        <translation>Letzte Nachricht bearbeiten (Pfeil hoch im leeren Eingabefeld)</translation>
    </message>
    <message>
        <source>&amp;Regenerate Answer</source>
        <translation>Antwort &amp;neu erzeugen</translation>
    </message>
    <message>
        <source>Pre&amp;vious Version</source>
        <translation>&amp;Vorherige Version</translation>
    </message>
    <message>
        <source>Ne&amp;xt Version</source>
        <translation>Nä&amp;chste Version</translation>
    </message>
    <message>
        <source>System &amp;Prompt…</source>
        <translation>System&amp;prompt…</translation>
    </message>
    <message>
        <source>Choose &amp;Model</source>
        <translation>&amp;Modell wählen</translation>
    </message>
    <message>
        <source>Chat Se&amp;ttings</source>
        <translation>Chat-Ein&amp;stellungen</translation>
    </message>
    <message>
        <source>Go to &amp;Chat List</source>
        <translation>Zur Chat&amp;liste</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Holdfast</source>
        <translation>Ü&amp;ber Holdfast</translation>
    </message>
    <message>
        <source>About Holdfast</source>
        <translation>Über Holdfast</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Holdfast %1&lt;/h3&gt;&lt;p&gt;A chat client for language models that never loses an answer.&lt;/p&gt;&lt;p&gt;Sessions: %2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Holdfast %1&lt;/h3&gt;&lt;p&gt;Ein Chat-Client für Sprachmodelle, der nie eine Antwort verliert.&lt;/p&gt;&lt;p&gt;Sitzungen auf %2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Sessions on %1</source>
        <translation>Sitzungen auf %1</translation>
    </message>
    <message>
        <source>“%1” waits for your approval of a tool call</source>
        <translation>„%1“ wartet auf Ihre Freigabe eines Werkzeugaufrufs</translation>
    </message>
    <message>
        <source>Cannot reach %1 (%2). Reconnecting…</source>
        <translation>%1 ist nicht erreichbar (%2). Verbindung wird wiederhergestellt…</translation>
    </message>
    <message>
        <source>Service not running</source>
        <translation>Dienst läuft nicht</translation>
    </message>
    <message>
        <source>The service could not start: %1</source>
        <translation>Der Dienst konnte nicht starten: %1</translation>
    </message>
    <message>
        <source>Answer finished in “%1”</source>
        <translation>Antwort fertig in „%1“</translation>
    </message>
    <message>
        <source>The answer in “%1” failed: %2</source>
        <translation>Die Antwort in „%1“ ist fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>The answer in “%1” was stopped</source>
        <translation>Die Antwort in „%1“ wurde gestoppt</translation>
    </message>
    <message>
        <source>Delete Chat</source>
        <translation>Chat löschen</translation>
    </message>
    <message>
        <source>Delete “%1” and all its messages? This cannot be undone.</source>
        <translation>„%1“ und alle Nachrichten löschen? Das kann nicht rückgängig gemacht werden.</translation>
    </message>
    <message>
        <source>Could not delete the chat: %1</source>
        <translation>Der Chat konnte nicht gelöscht werden: %1</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>Als JSON exportieren</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>Als Markdown exportieren</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>Export fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Exported to %1</source>
        <translation>Exportiert nach %1</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>%1 konnte nicht geschrieben werden</translation>
    </message>
    <message>
        <source>The providers could not be applied: %1</source>
        <translation>Die Anbieter konnten nicht übernommen werden: %1</translation>
    </message>
    <message>
        <source>Settings saved</source>
        <translation>Einstellungen gespeichert</translation>
    </message>
    <message>
        <source>More menus</source>
        <translation>Weitere Menüs</translation>
    </message>
    <message>
        <source>&amp;Keyboard Shortcuts</source>
        <translation>&amp;Tastenkürzel</translation>
    </message>
    <message>
        <source>&amp;Hide Holdfast</source>
        <translation>Holdfast &amp;ausblenden</translation>
    </message>
    <message>
        <source>&amp;Show Holdfast</source>
        <translation>Holdfast &amp;zeigen</translation>
    </message>
</context>
<context>
    <name>holdfast::McpServersDialog</name>
    <message>
        <source>MCP Servers</source>
        <translation>MCP-Server</translation>
    </message>
    <message>
        <source>Servers the model may use, in %1 (the common mcp.json notation: copy a server&apos;s configuration from its README)</source>
        <translation>Server, die das Modell verwenden darf, in %1 (die übliche mcp.json-Schreibweise: kopieren Sie die Konfiguration eines Servers aus seiner README)</translation>
    </message>
    <message>
        <source>mcp.json</source>
        <translation>mcp.json</translation>
    </message>
    <message>
        <source>Servers now:</source>
        <translation>Server jetzt:</translation>
    </message>
    <message>
        <source>State of the MCP servers</source>
        <translation>Zustand der MCP-Server</translation>
    </message>
    <message>
        <source>Holdfast reads this file when it starts: saved changes apply the next time it starts.</source>
        <translation>Holdfast liest diese Datei beim Start: gespeicherte Änderungen gelten ab dem nächsten Start.</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Aktualisieren</translation>
    </message>
    <message>
        <source>Line %1: %2</source>
        <translation>Zeile %1: %2</translation>
    </message>
    <message>
        <source>The file must be an object with &quot;mcpServers&quot;: {&quot;NAME&quot;: {…}}</source>
        <translation>Die Datei muss ein Objekt mit &quot;mcpServers&quot;: {&quot;NAME&quot;: {…}} sein</translation>
    </message>
    <message>
        <source>Server &quot;%1&quot; must be an object</source>
        <translation>Server &quot;%1&quot; muss ein Objekt sein</translation>
    </message>
    <message>
        <source>Server &quot;%1&quot; needs either &quot;command&quot; (a local server) or &quot;url&quot; (a server over HTTP)</source>
        <translation>Server &quot;%1&quot; braucht entweder &quot;command&quot; (ein lokaler Server) oder &quot;url&quot; (ein Server über HTTP)</translation>
    </message>
    <message>
        <source>Server &quot;%1&quot;: &quot;args&quot; must be a list of strings</source>
        <translation>Server &quot;%1&quot;: &quot;args&quot; muss eine Liste von Zeichenketten sein</translation>
    </message>
    <message>
        <source>Server &quot;%1&quot;: &quot;%2&quot; must map names to strings</source>
        <translation>Server &quot;%1&quot;: &quot;%2&quot; muss Namen auf Zeichenketten abbilden</translation>
    </message>
    <message>
        <source>✓ Valid: 1 server</source>
        <translation>✓ Gültig: 1 Server</translation>
    </message>
    <message>
        <source>Not connected to the service.</source>
        <translation>Nicht mit dem Dienst verbunden.</translation>
    </message>
    <message>
        <source>Could not ask the service: %1</source>
        <translation>Der Dienst konnte nicht gefragt werden: %1</translation>
    </message>
    <message>
        <source>● %1 — ready, 1 tool</source>
        <translation>● %1 — bereit, 1 Werkzeug</translation>
    </message>
    <message>
        <source>○ %1 — starting</source>
        <translation>○ %1 — startet</translation>
    </message>
    <message>
        <source>✕ %1 — error: %2</source>
        <translation>✕ %1 — Fehler: %2</translation>
    </message>
    <message>
        <source>    its last words on stderr:</source>
        <translation>    seine letzten Worte auf stderr:</translation>
    </message>
    <message>
        <source>No server is configured.</source>
        <translation>Kein Server ist konfiguriert.</translation>
    </message>
    <message>
        <source>Saved. Holdfast reads this file when it starts: the change applies the next time it starts.</source>
        <translation>Gespeichert. Holdfast liest diese Datei beim Start: die Änderung gilt ab dem nächsten Start.</translation>
    </message>
    <message>
        <source>%1 could not be written.</source>
        <translation>%1 konnte nicht geschrieben werden.</translation>
    </message>
    <message numerus="yes">
        <source>✓ Valid: %Ln servers</source>
        <translation>
            <numerusform>✓ Gültig: %Ln Server</numerusform>
            <numerusform>✓ Gültig: %Ln Server</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>● %1 — ready, %Ln tools</source>
        <translation>
            <numerusform>● %1 — bereit, %Ln Werkzeug</numerusform>
            <numerusform>● %1 — bereit, %Ln Werkzeuge</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::RemoteClient</name>
    <message>
        <source>the request was abandoned</source>
        <translation>die Anfrage wurde abgebrochen</translation>
    </message>
    <message>
        <source>cannot reach %1: %2</source>
        <translation>%1 ist nicht erreichbar: %2</translation>
    </message>
    <message>
        <source>HTTP status %1</source>
        <translation>HTTP-Status %1</translation>
    </message>
</context>
<context>
    <name>holdfast::SessionItemDelegate</name>
    <message>
        <source>just now</source>
        <translation>gerade eben</translation>
    </message>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>vor %n Min.</numerusform>
            <numerusform>vor %n Min.</numerusform>
        </translation>
    </message>
    <message>
        <source>yesterday</source>
        <translation>gestern</translation>
    </message>
    <message>
        <source>waits for your approval</source>
        <translation>wartet auf Ihre Freigabe</translation>
    </message>
    <message>
        <source>answering…</source>
        <translation>antwortet…</translation>
    </message>
    <message>
        <source>1 message</source>
        <translation>1 Nachricht</translation>
    </message>
    <message numerus="yes">
        <source>%Ln messages</source>
        <translation>
            <numerusform>%Ln Nachricht</numerusform>
            <numerusform>%Ln Nachrichten</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::SessionListModel</name>
    <message>
        <source>New chat</source>
        <translation>Neuer Chat</translation>
    </message>
    <message numerus="yes">
        <source>%1
%Ln messages, last change %2</source>
        <translation>
            <numerusform>%1
%Ln Nachricht, zuletzt geändert %2</numerusform>
            <numerusform>%1
%Ln Nachrichten, zuletzt geändert %2</numerusform>
        </translation>
    </message>
    <message>
        <source>waits for your approval</source>
        <translation>wartet auf Ihre Freigabe</translation>
    </message>
    <message>
        <source>answering</source>
        <translation>antwortet</translation>
    </message>
    <message>
        <source>%1, %2</source>
        <translation>%1, %2</translation>
    </message>
    <message>
        <source>%1, %2, %3</source>
        <translation>%1, %2, %3</translation>
    </message>
    <message>
        <source>1 message</source>
        <translation>1 Nachricht</translation>
    </message>
    <message>
        <source>%1 messages</source>
        <translation>%1 Nachrichten</translation>
    </message>
</context>
<context>
    <name>holdfast::SessionSidebar</name>
    <message>
        <source>Chats</source>
        <translation>Chats</translation>
    </message>
    <message>
        <source>New chat (Ctrl+N)</source>
        <translation>Neuer Chat (Strg+N)</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>Chats durchsuchen</translation>
    </message>
    <message>
        <source>Filters by title and message text (Ctrl+F)</source>
        <translation>Filtert nach Titel und Nachrichtentext (Strg+F)</translation>
    </message>
    <message>
        <source>Could not list the chats: %1</source>
        <translation>Die Chats konnten nicht aufgelistet werden: %1</translation>
    </message>
    <message>
        <source>Could not rename the chat: %1</source>
        <translation>Der Chat konnte nicht umbenannt werden: %1</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Neuer Chat</translation>
    </message>
    <message>
        <source>Starts a new chat (Ctrl+N)</source>
        <translation>Beginnt einen neuen Chat (Strg+N)</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Suchen</translation>
    </message>
    <message>
        <source>Clear search</source>
        <translation>Suche leeren</translation>
    </message>
    <message>
        <source>Filters the chat list by title and message text</source>
        <translation>Filtert die Chatliste nach Titel und Nachrichtentext</translation>
    </message>
    <message>
        <source>Your chats, newest first: Enter opens, F2 renames, Delete deletes</source>
        <translation>Ihre Chats, neueste zuerst: Eingabetaste öffnet, F2 benennt um, Entf löscht</translation>
    </message>
</context>
<context>
    <name>holdfast::SettingsDialog</name>
    <message>
        <source>MCP Servers…</source>
        <translation>MCP-Server…</translation>
    </message>
    <message>
        <source>The MCP servers whose tools chats may use (%1)</source>
        <translation>Die MCP-Server, deren Werkzeuge Chats verwenden dürfen (%1)</translation>
    </message>
    <message>
        <source>demo (built in)</source>
        <translation>demo (eingebaut)</translation>
    </message>
    <message>
        <source>The offline demo model is built in and always there; it cannot be changed.</source>
        <translation>Das Offline-Demomodell ist eingebaut und immer vorhanden; es kann nicht geändert werden.</translation>
    </message>
    <message>
        <source>kept in the system keychain</source>
        <translation>im Schlüsselbund des Systems gespeichert</translation>
    </message>
    <message>
        <source>no keychain: use the settings file</source>
        <translation>kein Schlüsselbund: die Einstellungsdatei verwenden</translation>
    </message>
    <message>
        <source>The provider of --provider, --base-url and --model (the global keys of the settings file). </source>
        <translation>Der Anbieter von --provider, --base-url und --model (die globalen Schlüssel der Einstellungsdatei). </translation>
    </message>
    <message>
        <source>Saved changes apply at once; answers being written finish with the provider they began with. </source>
        <translation>Gespeicherte Änderungen gelten sofort; Antworten, die gerade geschrieben werden, enden mit dem Anbieter, mit dem sie begonnen haben. </translation>
    </message>
    <message>
        <source>The API key goes to the system keychain, never to the settings file.</source>
        <translation>Der API-Schlüssel kommt in den Schlüsselbund des Systems, nie in die Einstellungsdatei.</translation>
    </message>
    <message>
        <source>No keychain here: put api-key = KEY in this provider&apos;s group of the settings file, or use HOLDFAST_API_KEY.</source>
        <translation>Hier gibt es keinen Schlüsselbund: tragen Sie api-key = KEY in die Gruppe dieses Anbieters in der Einstellungsdatei ein oder verwenden Sie HOLDFAST_API_KEY.</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>(kein Name)</translation>
    </message>
    <message>
        <source>Holdfast cannot test connections here.</source>
        <translation>Holdfast kann hier keine Verbindungen testen.</translation>
    </message>
    <message>
        <source>Asking %1 for its models…</source>
        <translation>%1 wird nach seinen Modellen gefragt…</translation>
    </message>
    <message>
        <source>Could not list the models: %1</source>
        <translation>Die Modelle konnten nicht aufgelistet werden: %1</translation>
    </message>
    <message>
        <source>Connected: the server serves one model.</source>
        <translation>Verbunden: der Server bietet ein Modell.</translation>
    </message>
    <message>
        <source>Database File</source>
        <translation>Datenbankdatei</translation>
    </message>
    <message>
        <source>SQLite databases (*.db *.sqlite)</source>
        <translation>SQLite-Datenbanken (*.db *.sqlite)</translation>
    </message>
    <message>
        <source>Provider “default”: the base URL must be an http:// or https:// URL.</source>
        <translation>Anbieter „default“: die Basis-URL muss eine http://- oder https://-URL sein.</translation>
    </message>
    <message>
        <source>Every provider needs a name.</source>
        <translation>Jeder Anbieter braucht einen Namen.</translation>
    </message>
    <message>
        <source>Provider “%1”: a name has only letters, digits, &apos;-&apos; and &apos;_&apos;.</source>
        <translation>Anbieter „%1“: ein Name besteht nur aus Buchstaben, Ziffern, &apos;-&apos; und &apos;_&apos;.</translation>
    </message>
    <message>
        <source>There is already a provider named “%1”.</source>
        <translation>Es gibt schon einen Anbieter namens „%1“.</translation>
    </message>
    <message>
        <source>Provider “%1”: the kind is openai or ollama.</source>
        <translation>Anbieter „%1“: die Art ist openai oder ollama.</translation>
    </message>
    <message>
        <source>Provider “%1”: the base URL must be an http:// or https:// URL.</source>
        <translation>Anbieter „%1“: die Basis-URL muss eine http://- oder https://-URL sein.</translation>
    </message>
    <message>
        <source>Provider “%1”: a default model is needed.</source>
        <translation>Anbieter „%1“: ein Standardmodell ist nötig.</translation>
    </message>
    <message>
        <source>Serving other computers needs a token.</source>
        <translation>Die Bereitstellung für andere Computer braucht ein Token.</translation>
    </message>
    <message>
        <source>The settings file %1 could not be written.</source>
        <translation>Die Einstellungsdatei %1 konnte nicht geschrieben werden.</translation>
    </message>
    <message>
        <source>The API key of %1 could not be stored in the keychain.</source>
        <translation>Der API-Schlüssel von %1 konnte nicht im Schlüsselbund gespeichert werden.</translation>
    </message>
    <message>
        <source>The token could not be stored in the keychain.</source>
        <translation>Das Token konnte nicht im Schlüsselbund gespeichert werden.</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Systemstandard</translation>
    </message>
    <message numerus="yes">
        <source>Connected: the server serves %Ln models.</source>
        <translation>
            <numerusform>Verbunden: der Server bietet %Ln Modell.</numerusform>
            <numerusform>Verbunden: der Server bietet %Ln Modelle.</numerusform>
        </translation>
    </message>
    <message>
        <source>Providers</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Insert adds a provider, Delete removes it</source>
        <translation>Einfg fügt einen Anbieter hinzu, Entf entfernt ihn</translation>
    </message>
    <message>
        <source>Kinds of provider</source>
        <translation>Arten von Anbietern</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>As the desktop</source>
        <translation>Wie der Desktop</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>Farbschema</translation>
    </message>
    <message>
        <source>T&amp;heme:</source>
        <translation>Farbs&amp;chema:</translation>
    </message>
    <message>
        <source>Show an icon in the system tra&amp;y; closing the window hides it there</source>
        <translation>Ein Sy&amp;mbol im Infobereich zeigen; Schließen des Fensters blendet es dorthin aus</translation>
    </message>
    <message>
        <source>Themes</source>
        <translation>Farbschemata</translation>
    </message>
    <message>
        <source>Languages</source>
        <translation>Sprachen</translation>
    </message>
</context>
<context>
    <name>holdfast::ShortcutsDialog</name>
    <message>
        <source>Keyboard Shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <source>Shortcut</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <source>Every action that has a shortcut, by menu</source>
        <translation>Jede Aktion mit einem Tastenkürzel, nach Menü</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
</context>
<context>
    <name>holdfast::ToolApprovalCard</name>
    <message>
        <source>&amp;Allow once</source>
        <translation>&amp;Einmal erlauben</translation>
    </message>
    <message>
        <source>Al&amp;ways allow in this chat</source>
        <translation>In diesem Chat &amp;immer erlauben</translation>
    </message>
    <message>
        <source>&amp;Decline</source>
        <translation>&amp;Ablehnen</translation>
    </message>
    <message>
        <source>Tool call waiting for approval</source>
        <translation>Werkzeugaufruf wartet auf Freigabe</translation>
    </message>
    <message>
        <source>Arguments of the tool call</source>
        <translation>Argumente des Werkzeugaufrufs</translation>
    </message>
    <message>
        <source>Run this call once (Alt+A)</source>
        <translation>Diesen Aufruf einmal ausführen (Alt+E)</translation>
    </message>
    <message>
        <source>Run this call, and let the model run tools in this chat without asking (Alt+W)</source>
        <translation>Diesen Aufruf ausführen und das Modell in diesem Chat Werkzeuge ohne Nachfrage ausführen lassen (Alt+I)</translation>
    </message>
    <message>
        <source>Do not run it: the model is told that you declined (Alt+D)</source>
        <translation>Nicht ausführen: das Modell erfährt, dass Sie abgelehnt haben (Alt+A)</translation>
    </message>
    <message>
        <source>The model wants to use the tool %1</source>
        <translation>Das Modell möchte das Werkzeug %1 verwenden</translation>
    </message>
</context>
<context>
    <name>holdfast::ToolsButton</name>
    <message>
        <source>Tools of this chat</source>
        <translation>Werkzeuge dieses Chats</translation>
    </message>
    <message>
        <source>Could not list the tools: %1</source>
        <translation>Die Werkzeuge konnten nicht aufgelistet werden: %1</translation>
    </message>
    <message>
        <source>MCP Servers…</source>
        <translation>MCP-Server…</translation>
    </message>
    <message>
        <source>Looking for tools…</source>
        <translation>Werkzeuge werden gesucht…</translation>
    </message>
    <message>
        <source>No MCP server is configured</source>
        <translation>Kein MCP-Server ist konfiguriert</translation>
    </message>
    <message>
        <source>Tools this chat may use</source>
        <translation>Werkzeuge, die dieser Chat verwenden darf</translation>
    </message>
    <message>
        <source> (starting…)</source>
        <translation> (startet…)</translation>
    </message>
    <message>
        <source> (error)</source>
        <translation> (Fehler)</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Fehler: %1</translation>
    </message>
    <message>
        <source>All tools of %1</source>
        <translation>Alle Werkzeuge von %1</translation>
    </message>
    <message>
        <source>Its tools are listed once it has started</source>
        <translation>Seine Werkzeuge werden aufgelistet, sobald er gestartet ist</translation>
    </message>
    <message>
        <source>Before a tool runs</source>
        <translation>Bevor ein Werkzeug läuft</translation>
    </message>
    <message>
        <source>Ask before each call</source>
        <translation>Vor jedem Aufruf fragen</translation>
    </message>
    <message>
        <source>Run without asking</source>
        <translation>Ohne Nachfrage ausführen</translation>
    </message>
    <message>
        <source>Send a first message to choose this chat&apos;s tools</source>
        <translation>Senden Sie eine erste Nachricht, um die Werkzeuge dieses Chats zu wählen</translation>
    </message>
    <message>
        <source>⚙ All tools</source>
        <translation>⚙ Alle Werkzeuge</translation>
    </message>
    <message>
        <source>⚙ 1 tool</source>
        <translation>⚙ 1 Werkzeug</translation>
    </message>
    <message>
        <source>Tools: off in this chat. Choose which tools the model may use</source>
        <translation>Werkzeuge: in diesem Chat aus. Wählen Sie, welche Werkzeuge das Modell verwenden darf</translation>
    </message>
    <message>
        <source>Tools the model may use in this chat</source>
        <translation>Werkzeuge, die das Modell in diesem Chat verwenden darf</translation>
    </message>
    <message>
        <source> (they run without asking)</source>
        <translation> (sie laufen ohne Nachfrage)</translation>
    </message>
    <message>
        <source> (each call asks first)</source>
        <translation> (jeder Aufruf fragt zuerst)</translation>
    </message>
    <message numerus="yes">
        <source>⚙ %Ln tools</source>
        <translation>
            <numerusform>⚙ %Ln Werkzeug</numerusform>
            <numerusform>⚙ %Ln Werkzeuge</numerusform>
        </translation>
    </message>
</context>
</TS>
