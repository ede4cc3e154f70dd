<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>AnswerFooter</name>
    <message numerus="yes">
        <source>%Ln older messages were left out to fit the context budget</source>
        <translation>
            <numerusform>%Ln older message was left out to fit the context budget</numerusform>
            <numerusform>%Ln older messages were left out to fit the context budget</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::ChatPane</name>
    <message numerus="yes">
        <source>at most %Ln files go with one message</source>
        <translation>
            <numerusform>at most %Ln file goes with one message</numerusform>
            <numerusform>at most %Ln files go with one message</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::ChatView</name>
    <message numerus="yes">
        <source>… (%n more characters)</source>
        <translation>
            <numerusform>… (%n more character)</numerusform>
            <numerusform>… (%n more characters)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>(%n more characters)</source>
        <translation>
            <numerusform>(%n more character)</numerusform>
            <numerusform>(%n more characters)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::McpServersDialog</name>
    <message numerus="yes">
        <source>✓ Valid: %Ln servers</source>
        <translation>
            <numerusform>✓ Valid: %Ln server</numerusform>
            <numerusform>✓ Valid: %Ln servers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>● %1 — ready, %Ln tools</source>
        <translation>
            <numerusform>● %1 — ready, %Ln tool</numerusform>
            <numerusform>● %1 — ready, %Ln tools</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::SessionItemDelegate</name>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>%n min ago</numerusform>
            <numerusform>%n min ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln messages</source>
        <translation>
            <numerusform>%Ln message</numerusform>
            <numerusform>%Ln messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::SessionListModel</name>
    <message numerus="yes">
        <source>%1
%Ln messages, last change %2</source>
        <translation>
            <numerusform>%1
%Ln message, last change %2</numerusform>
            <numerusform>%1
%Ln messages, last change %2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::SettingsDialog</name>
    <message numerus="yes">
        <source>Connected: the server serves %Ln models.</source>
        <translation>
            <numerusform>Connected: the server serves %Ln model.</numerusform>
            <numerusform>Connected: the server serves %Ln models.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>holdfast::ToolsButton</name>
    <message numerus="yes">
        <source>⚙ %Ln tools</source>
        <translation>
            <numerusform>⚙ %Ln tool</numerusform>
            <numerusform>⚙ %Ln tools</numerusform>
        </translation>
    </message>
</context>
</TS>
