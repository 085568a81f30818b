//! The help: the keyboard shortcuts and the legend of shapes and colours.

use crate::app::keys;
use crate::app::ring::msg_shape;
use crate::app::Msg;
use crate::describe;
use crate::i18n::{Lang, Texts};
use crate::layout::class_list;
use nacos_raft_core::MsgKind;
use nacos_raft_core::PeerState;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct HelpProps {
    pub lang: Lang,
    pub on: Callback<Msg>,
}

/// Drawn by [`crate::app::memo::Memo`].
pub fn help(p: &HelpProps) -> Html {
    let lang = p.lang;
    let tr = lang.tr();
    let keys = keys::legend(tr);
    let kinds = [
        MsgKind::Vote,
        MsgKind::VoteReply,
        MsgKind::Beat,
        MsgKind::BeatReply,
        MsgKind::Peer,
        MsgKind::DatumGet,
        MsgKind::DatumReply,
        MsgKind::Commit,
        MsgKind::CommitReply,
        MsgKind::Forward,
        MsgKind::DeleteCommit,
    ];
    let close = crate::app::send(&p.on, Msg::ToggleHelp);
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label={tr.help} data-testid="help-dialog">
            <div class="dialog">
                <button class="close" onclick={close.clone()} aria-label={tr.close}>{ "×" }</button>
                <h2>{ tr.title }</h2>
                <p>{ tr.help_intro }</p>
                { crate::app::teach_view::reading(lang) }
                <div class="cols">
                    <div>
                        <h3>{ tr.shortcuts }</h3>
                        <table class="kv">
                            { for keys.iter().map(|(k, v)| html! { <tr><th><kbd>{ *k }</kbd></th><td>{ *v }</td></tr> }) }
                        </table>
                    </div>
                    <div>
                        <h3>{ tr.legend }</h3>
                        <ul class="legend-list">
                            { for kinds.iter().map(|k| html! {
                                <li>
                                    <svg class="legend-shape" viewBox="-14 -14 28 28" width="24" height="24">
                                        { msg_shape(*k, 9.0, (*k == MsgKind::VoteReply).then_some(true), 200) }
                                    </svg>
                                    <code>{ k.as_str() }</code>{ " " }{ describe::kind_name(lang, *k) }
                                </li>
                            }) }
                            <li>
                                <svg class="legend-shape" viewBox="-14 -14 28 28" width="24" height="24">
                                    { msg_shape(MsgKind::VoteReply, 9.0, Some(false), 200) }
                                </svg>
                                { tr.refused }
                            </li>
                            <li>{ format!("● {} · ○ {} · ✕ {}", tr.request, tr.reply, tr.failed_message) }</li>
                        </ul>
                        <p class="small">{ tr.leader_ring }</p>
                        <p class="small">{ tr.beat_ring }</p>
                        <p class="small">{ format!("{}: ", tr.state) }
                            { for [PeerState::Leader, PeerState::Candidate, PeerState::Follower].iter().map(|st| html! {
                                <span class={class_list(&["badge", &st.as_str().to_ascii_lowercase()])}>{ describe::state_word(lang, Some(*st)) }</span>
                            }) }
                            <span class="badge down">{ tr.state_down }</span>
                        </p>
                        <ul class="legend-list" data-testid="legend-glyphs">
                            { for crate::teach::texts::legend(lang).iter().map(|(g, t)| html! {
                                <li><code class="glyph">{ *g }</code>{ " " }{ *t }</li>
                            }) }
                        </ul>
                    </div>
                </div>
                <div class="actions"><button onclick={close}>{ tr.close }</button></div>
            </div>
        </div>
    }
}
